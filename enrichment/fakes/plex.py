"""A protocol-faithful fake Plex Media Server: a library's music sections (the main one and
any hidden extra one) and a video section that holds nothing.

The real ``plexapi`` client runs against it unchanged. Set ``PLEXAPI_PLEXAPI_AUTORELOAD=false``
and ``PLEXAPI_PLEXAPI_TIMEZONE=UTC`` before importing plexapi: autoreload turns every missing
attribute into an extra ``/library/metadata/{id}`` request, exactly as against a real server.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, ClassVar, cast
from xml.sax.saxutils import quoteattr

from enrichment.fakes.base import FakeServer, Request, Response
from enrichment.fakes.models import Album, Artist, Track
from enrichment.fakes.plex_query import (
    FIELDS,
    LIBTYPES,
    QueryError,
    apply_filters,
    conditions,
    default_order,
    meta_element,
    parse_pairs,
    sort_items,
)
from enrichment.fakes.plex_routes import PlaylistRoutes, html_error, xml_response
from enrichment.fakes.plex_xml import SERVER_VERSION, PlexXml, document, serialise
from enrichment.fakes.vocab import TAG_IDS

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from enrichment.fakes.faults import FaultPlan, RateLimit
    from enrichment.fakes.models import Item, Library, Play
    from enrichment.fakes.plex_playlists import PlaylistView

    Handler = Callable[[Request, re.Match[str]], Response]

_QUERY_CACHE_SIZE = 16


class _NotFound(Exception):
    """A section or item the route names does not exist (answered with 404)."""


class FakePlexServer(FakeServer):
    """Fake PMS over a :class:`~enrichment.fakes.library.Library` and its extra sections.

    Every route but ``/identity`` needs ``X-Plex-Token`` (header or query parameter) and
    answers 401 otherwise. Listings page with ``X-Plex-Container-Start/Size`` (header or
    query parameter) and report ``totalSize`` and ``offset``; metadata by keys
    (``/library/metadata/1,2,3``) pages the same way but, like a real server, reports only
    ``size``.
    """

    name: ClassVar[str] = "plex"

    def __init__(
        self,
        library: Library,
        *,
        token: str | None = None,
        machine_identifier: str | None = None,
        friendly_name: str = "Playlister Demo",
        port: int = 0,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        super().__init__(port=port, latency=latency, faults=faults, rate_limit=rate_limit)
        self.library = library
        self.token = token or secrets.token_urlsafe(20)
        seed_bytes = f"playlister-fake-plex-{library.seed}".encode()
        self.machine_identifier = machine_identifier or hashlib.sha256(seed_bytes).hexdigest()[:40]
        self.friendly_name = friendly_name
        self._xml = {
            lib.section_id: PlexXml(lib, self.machine_identifier) for lib in library.sections
        }
        self.xml = self._xml[library.section_id]
        self._playlist_routes = PlaylistRoutes(self)
        self._orders: dict[tuple[int, str], tuple[Item, ...]] = {}
        self._cache: OrderedDict[tuple[object, ...], Sequence[object]] = OrderedDict()
        self._cache_lock = threading.Lock()
        # The whole server's history in time order, each play with its section.
        self._history_rows = sorted(
            ((p, lib.section_id) for lib in library.sections for p in lib.plays),
            key=lambda row: row[0].viewed_at,
        )
        self._play_times = [int(p.viewed_at.timestamp()) for p, _ in self._history_rows]
        section = r"/library/sections/(\d+)"
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = [
            ("GET", re.compile(r"/"), "root", self._root),
            ("GET", re.compile(r"/identity"), "identity", self._identity),
            ("GET", re.compile(r"/library"), "library", self._library),
            ("GET", re.compile(r"/library/sections/?"), "sections", self._sections),
            ("GET", re.compile(section + r"/all"), "section_all", self._section_all),
            ("GET", re.compile(section + r"/albums"), "section_albums", self._section_albums),
            ("GET", re.compile(section + r"/collections"), "collections", self._collections),
            ("GET", re.compile(section + r"/(genre|style|mood)"), "filter_choices", self._choices),
            ("GET", re.compile(r"/library/metadata/([\d,]+)"), "metadata", self._metadata),
            ("GET", re.compile(r"/library/metadata/(\d+)/children"), "children", self._children),
            ("GET", re.compile(r"/library/metadata/(\d+)/allLeaves"), "all_leaves", self._leaves),
            ("GET", re.compile(r"/status/sessions/history/all"), "history", self._history),
            *self._playlist_routes.routes(),
        ]

    # -- test-facing views -----------------------------------------------------------------

    def playlists(self) -> list[PlaylistView]:
        """Every playlist on the server (titles, summaries, item rating keys), oldest first."""
        return self._playlist_routes.store.all()

    def playlist_titled(self, title: str) -> PlaylistView | None:
        """The first playlist with exactly this title."""
        return next((p for p in self.playlists() if p.title == title), None)

    def create_playlist(self, title: str, rating_keys: Sequence[int]) -> PlaylistView:
        """A playlist made by someone else (the person, another app), as a test's setup."""
        return self._playlist_routes.store.create(title, "audio", list(rating_keys))

    # -- sections and items ----------------------------------------------------------------

    def find(self, rating_key: int) -> tuple[Item, PlexXml] | None:
        """The item with this key in any section, with that section's XML builder."""
        for xml in self._xml.values():
            item = xml.library.item(rating_key)
            if item is not None:
                return item, xml
        return None

    def _section(self, match: re.Match[str]) -> PlexXml:
        xml = self._xml.get(int(match.group(1)))
        if xml is None:
            raise _NotFound
        return xml

    # -- dispatch --------------------------------------------------------------------------

    def _match(self, request: Request) -> tuple[str, Handler | None, re.Match[str] | None]:
        path_matched = False
        for method, pattern, name, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            path_matched = True
            if method == request.method or (method == "GET" and request.method == "HEAD"):
                return name, handler, match
        return ("method_not_allowed" if path_matched else "not_found"), None, None

    def endpoint(self, request: Request) -> str:
        """Route name, e.g. ``section_all``, ``metadata``, ``history``, ``playlist_create``."""
        return self._match(request)[0]

    def handle(self, request: Request) -> Response:
        """Authenticate, route and answer one request."""
        name, handler, match = self._match(request)
        if name != "identity" and not self._authorised(request):
            return html_error(401, "Unauthorized")
        if handler is None or match is None:
            if name == "method_not_allowed":
                return html_error(405, "Method Not Allowed")
            return html_error(404, "Not Found")
        try:
            return handler(request, match)
        except QueryError as exc:
            return html_error(400, f"Bad Request: {exc}")
        except _NotFound:
            return html_error(404, "Not Found")

    def _authorised(self, request: Request) -> bool:
        given = request.header("X-Plex-Token") or request.param("X-Plex-Token") or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    # -- helpers shared with the playlist routes -------------------------------------------

    def page[T](
        self, request: Request, items: Sequence[T]
    ) -> tuple[Sequence[T], dict[str, object]]:
        """The requested page of ``items`` and the container's size/totalSize/offset."""
        start = self._int_arg(request, "X-Plex-Container-Start") or 0
        size = self._int_arg(request, "X-Plex-Container-Size")
        if start < 0 or (size is not None and size < 0):
            raise QueryError("negative container start or size")
        chunk = items[start:] if size is None else items[start : start + size]
        return chunk, {"size": len(chunk), "totalSize": len(items), "offset": start}

    @staticmethod
    def _int_arg(request: Request, name: str) -> int | None:
        # An explicit URL parameter wins over the header plexapi sends on every request.
        raw = request.param(name) or request.header(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError as exc:
            raise QueryError(f"{name} must be an integer") from exc

    def _cached(
        self, key: tuple[object, ...], compute: Callable[[], Sequence[object]]
    ) -> Sequence[object]:
        # Paging re-sends the same query per page; filtering 100k items each time is wasteful.
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > _QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return value

    def _order(self, library: Library, libtype: str) -> tuple[Item, ...]:
        key = (library.section_id, libtype)
        order = self._orders.get(key)
        if order is None:
            order = self._orders[key] = default_order(library, libtype)
        return order

    # -- server ----------------------------------------------------------------------------

    def _root(self, request: Request, match: re.Match[str]) -> Response:
        attrs: dict[str, object] = {
            "size": 2,
            "allowCameraUpload": 0,
            "allowMediaDeletion": 1,
            "allowSharing": 1,
            "allowSync": 1,
            "friendlyName": self.friendly_name,
            "machineIdentifier": self.machine_identifier,
            "multiuser": 1,
            "myPlex": 0,
            "platform": "Linux",
            "platformVersion": "6.1",
            "transcoderActiveVideoSessions": 0,
            "transcoderAudio": 1,
            "updatedAt": int(self.library.now.timestamp()),
            "version": SERVER_VERSION,
        }
        children = [b'<Directory count="1" key="library" title="library" />']
        children.append(b'<Directory count="1" key="playlists" title="playlists" />')
        return xml_response(document(children, attrs))

    def _identity(self, request: Request, match: re.Match[str]) -> Response:
        attrs = {"size": 0, "claimed": 1, "machineIdentifier": self.machine_identifier}
        return xml_response(document([], attrs | {"version": SERVER_VERSION}))

    def _library(self, request: Request, match: re.Match[str]) -> Response:
        attrs = {
            "size": 1,
            "allowSync": 0,
            "identifier": "com.plexapp.plugins.library",
            "mediaTagPrefix": "/system/bundle/media/flags/",
            "mediaTagVersion": "1700000000",
            "title1": "Plex Library",
            "title2": "",
        }
        return xml_response(
            document([b'<Directory key="sections" title="Library Sections" />'], attrs)
        )

    def _sections(self, request: Request, match: re.Match[str]) -> Response:
        children = [xml.section_directory() for xml in self._xml.values()]
        children.append(self._video_section())
        attrs = {"size": len(children), "allowSync": 0, "title1": "Plex Library"}
        return xml_response(document(children, attrs))

    def _video_section(self) -> bytes:
        """A movie section next to the music: listed like any section, holding nothing."""
        key = max(self._xml) + 1
        return (
            f'<Directory allowSync="1" key="{key}" type="movie" title="Filme" '
            f'agent="tv.plex.agents.movie" scanner="Plex Movie" language="de-DE" '
            f'uuid="{self.machine_identifier[:8]}-0000-4000-8000-{key:012d}" '
            f'content="1" directory="1" hidden="0">'
            f'<Location id="{key}" path="/filme" /></Directory>'
        ).encode()

    # -- section listings ------------------------------------------------------------------

    def _libtype(self, request: Request) -> str:
        raw = request.param("type") or "8"
        libtype = LIBTYPES.get(int(raw)) if raw.isdigit() else None
        if libtype is None:
            raise QueryError(f"unsupported type {raw!r} for a music section")
        return libtype

    def _section_all(self, request: Request, match: re.Match[str]) -> Response:
        xml = self._section(match)
        library = xml.library
        libtype = self._libtype(request)
        pairs = parse_pairs(request.raw_query)
        conds = conditions(pairs, libtype)
        sort = request.param("sort")
        limit = self._int_arg(request, "limit")

        def compute() -> Sequence[object]:
            found = apply_filters(library, self._order(library, libtype), conds, library.now)
            ordered = sort_items(found, sort, libtype)
            return ordered if limit is None else ordered[:limit]

        key = ("all", library.section_id, libtype, tuple(conds), sort, limit)
        items = self._cached(key, compute)
        page, attrs = self.page(request, items)
        children: list[bytes] = []
        if request.param("includeMeta") == "1":
            children.append(serialise(meta_element(library.section_id, list(FIELDS))))
        guids = request.param("includeGuids") == "1"
        children.extend(xml.item(i, full=False, guids=guids) for i in page)  # type: ignore[arg-type]
        return xml_response(document(children, xml.listing_attrs(libtype) | attrs))

    def _section_albums(self, request: Request, match: re.Match[str]) -> Response:
        xml = self._section(match)
        page, attrs = self.page(request, self._order(xml.library, "album"))
        guids = request.param("includeGuids") == "1"
        children = [xml.item(i, full=False, guids=guids) for i in page]
        return xml_response(document(children, xml.listing_attrs("album") | attrs))

    def _collections(self, request: Request, match: re.Match[str]) -> Response:
        # No collections, but plexapi reads this container's <Meta> while loading filters.
        xml = self._section(match)
        children = []
        if request.param("includeMeta") == "1":
            children.append(serialise(meta_element(xml.library.section_id, ["collection"])))
        attrs = {"size": 0, "totalSize": 0, "offset": 0}
        return xml_response(document(children, xml.listing_attrs("collection") | attrs))

    def _choices(self, request: Request, match: re.Match[str]) -> Response:
        xml = self._section(match)
        kind, libtype = match.group(2), self._libtype(request)
        if kind not in FIELDS[libtype]:
            raise QueryError(f"no {kind} filter for type {libtype}")
        names: set[str] = set()
        for item in self._order(xml.library, libtype):
            names.update(getattr(item, f"{kind}s"))
        section = xml.section_key
        children = []
        for name in sorted(names, key=str.casefold):
            tag_id = TAG_IDS[(kind, name)]
            element = (
                f'<Directory fastKey="{section}/all?{kind}={tag_id}" key="{tag_id}" '
                f'title={quoteattr(name)} type="{kind}" />'
            )
            children.append(element.encode("utf-8"))
        page, attrs = self.page(request, children)
        return xml_response(document(page, xml.listing_attrs(kind) | attrs))

    # -- metadata --------------------------------------------------------------------------

    def _metadata(self, request: Request, match: re.Match[str]) -> Response:
        keys = [int(k) for k in match.group(1).split(",") if k]
        found = [hit for k in dict.fromkeys(keys) if (hit := self.find(k)) is not None]
        if not found:
            return html_error(404, "Not Found")
        page, attrs = self.page(request, found)
        children = [xml.item(item, full=True) for item, xml in page]
        # A real server's answer to several keys carries ``size`` but no totalSize/offset, so
        # a client paging by ``totalSize`` (plexapi's fetchItems) stops after one page.
        head = found[0][1].listing_attrs("details") | {"size": attrs["size"]}
        return xml_response(document(children, head))

    def _parent(self, match: re.Match[str]) -> tuple[Item, PlexXml]:
        hit = self.find(int(match.group(1)))
        if hit is None:
            raise _NotFound
        return hit

    def _children(self, request: Request, match: re.Match[str]) -> Response:
        parent, xml = self._parent(match)
        items: Sequence[Item]
        if isinstance(parent, Artist):
            items = self._albums_by_year(xml.library, parent)
        elif isinstance(parent, Album):
            items = xml.library.tracks_of_album(parent.rating_key)
        else:
            items = ()
        return self._parented_listing(request, xml, parent, items)

    def _leaves(self, request: Request, match: re.Match[str]) -> Response:
        parent, xml = self._parent(match)
        items: list[Track] = []
        if isinstance(parent, Artist):
            for album in self._albums_by_year(xml.library, parent):
                items.extend(xml.library.tracks_of_album(album.rating_key))
        elif isinstance(parent, Album):
            items.extend(xml.library.tracks_of_album(parent.rating_key))
        else:
            items.append(parent)
        return self._parented_listing(request, xml, parent, items)

    @staticmethod
    def _albums_by_year(library: Library, artist: Artist) -> list[Album]:
        return sorted(library.albums_of(artist.rating_key), key=lambda a: (a.year, a.title))

    def _parented_listing(
        self, request: Request, xml: PlexXml, parent: Item, items: Sequence[Item]
    ) -> Response:
        page, attrs = self.page(request, items)
        guids = request.param("includeGuids") == "1"
        children = [xml.item(i, full=False, guids=guids) for i in page]
        view_group = (
            "album" if isinstance(parent, Artist) and "children" in request.path else "track"
        )
        extra = {
            "key": parent.rating_key,
            "title1": xml.library.section_title,
            "title2": parent.title,
        }
        return xml_response(document(children, xml.listing_attrs(view_group) | extra | attrs))

    # -- history ---------------------------------------------------------------------------

    def _history(self, request: Request, match: re.Match[str]) -> Response:
        pairs = parse_pairs(request.raw_query)
        key = ("history", tuple(p for p in pairs if not p[0].startswith("X-Plex-")))
        found = self._cached(key, lambda: self._filter_history(pairs))
        rows = cast("list[tuple[Play, int]]", found)
        page, attrs = self.page(request, rows)
        children = [self._xml[section].history_entry(play) for play, section in page]
        return xml_response(document(children, attrs))

    def _filter_history(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[Play, int]]:
        low, high = 0, len(self._play_times)
        equal: dict[str, set[int]] = {}
        descending = True
        for name, value in pairs:
            if name.startswith(("X-Plex-", "include")):
                continue
            if name == "sort":
                if value not in {"viewedAt:desc", "viewedAt:asc", "viewedAt"}:
                    raise QueryError(f"unsupported history sort {value!r}")
                descending = value == "viewedAt:desc"
            elif name.startswith("viewedAt"):
                low, high = self._viewed_bounds(name[len("viewedAt") :], value, low, high)
            elif name in {"librarySectionID", "accountID", "metadataItemID", "deviceID"}:
                equal[name] = {int(v) for v in value.split(",") if v.strip().isdigit()}
            else:
                raise QueryError(f"unsupported history parameter {name!r}")
        sections, accounts, items, devices = (
            equal.get("librarySectionID"),
            equal.get("accountID"),
            equal.get("metadataItemID"),
            equal.get("deviceID"),
        )
        result = [
            (p, section)
            for p, section in self._history_rows[low:high]
            if (sections is None or section in sections)
            and (accounts is None or p.account_id in accounts)
            and (items is None or p.track_key in items)
            and (devices is None or p.device_id in devices)
        ]
        if descending:
            result.reverse()
        return result

    def _viewed_bounds(self, op: str, value: str, low: int, high: int) -> tuple[int, int]:
        try:
            stamp = int(value)
        except ValueError as exc:
            raise QueryError(f"viewedAt needs epoch seconds, got {value!r}") from exc
        times = self._play_times
        # plexapi sends "viewedAt>=" (parsed as op ">") for "at or after".
        if op == ">":
            return max(low, bisect.bisect_left(times, stamp)), high
        if op == ">>":
            return max(low, bisect.bisect_right(times, stamp)), high
        if op == "<":
            return low, min(high, bisect.bisect_right(times, stamp))
        if op == "<<":
            return low, min(high, bisect.bisect_left(times, stamp))
        if op == "":
            return max(low, bisect.bisect_left(times, stamp)), min(
                high, bisect.bisect_right(times, stamp)
            )
        raise QueryError(f"unsupported viewedAt operator {op!r}")
