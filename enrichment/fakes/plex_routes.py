"""Playlist routes of the fake Plex server, plus small response helpers.

Only regular (non-smart) audio playlists exist; creating a smart one answers 400 so the app
cannot believe it made one. Items are addressed the way plexapi sends them:
``server://{machineIdentifier}/com.plexapp.plugins.library/library/metadata/1,2,3``; artists and
albums in such a URI expand to their tracks, as on a real server.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Protocol

from enrichment.fakes.base import Response
from enrichment.fakes.models import Album, Artist, Track
from enrichment.fakes.plex_playlists import PlaylistStore
from enrichment.fakes.plex_query import QueryError
from enrichment.fakes.plex_xml import XML_CONTENT_TYPE, document

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from enrichment.fakes.base import Request
    from enrichment.fakes.models import Item, Library
    from enrichment.fakes.plex_playlists import PlaylistView
    from enrichment.fakes.plex_xml import PlexXml

    Handler = Callable[[Request, re.Match[str]], Response]

_URI = re.compile(r"server://([^/]+)/com\.plexapp\.plugins\.library/library/metadata/([\d,]+)")


def xml_response(body: bytes, status: int = 200) -> Response:
    """An XML answer as Plex sends it."""
    return Response(status, body, XML_CONTENT_TYPE)


def html_error(status: int, title: str) -> Response:
    """Plex answers errors with a tiny HTML page, not XML."""
    title = html.escape(title)
    body = f"<html><head><title>{title}</title></head><body><h1>{status} {title}</h1></body></html>"
    return Response(status, body.encode("utf-8"), "text/html")


def _empty_ok() -> Response:
    return Response(200, b"", XML_CONTENT_TYPE)


class PlaylistServer(Protocol):
    """What the playlist routes need of their server (``FakePlexServer``, which imports
    this module: the routes name only this, so the two modules do not import each other)."""

    library: Library
    machine_identifier: str
    xml: PlexXml

    def find(self, rating_key: int) -> tuple[Item, PlexXml] | None: ...

    def page[T](
        self, request: Request, items: Sequence[T]
    ) -> tuple[Sequence[T], dict[str, object]]: ...


class PlaylistRoutes:
    """Handlers for ``/playlists...`` bound to one fake server and its playlist store."""

    def __init__(self, server: PlaylistServer) -> None:
        self.server = server
        self.store = PlaylistStore(first_rating_key=server.library.max_rating_key + 1)

    def routes(self) -> list[tuple[str, re.Pattern[str], str, Handler]]:
        """(method, path pattern, endpoint name, handler) for the server's routing table."""
        one, items, item = (
            r"/playlists/(\d+)",
            r"/playlists/(\d+)/items",
            r"/playlists/(\d+)/items/(\d+)",
        )
        return [
            ("GET", re.compile(r"/playlists/?"), "playlists", self.list_all),
            ("POST", re.compile(r"/playlists/?"), "playlist_create", self.create),
            ("GET", re.compile(one), "playlist", self.get),
            ("PUT", re.compile(one), "playlist_edit", self.edit),
            ("DELETE", re.compile(one), "playlist_delete", self.delete),
            ("GET", re.compile(items), "playlist_items", self.items),
            ("PUT", re.compile(items), "playlist_add", self.add),
            ("DELETE", re.compile(items), "playlist_clear", self.clear),
            ("DELETE", re.compile(item), "playlist_remove_item", self.remove_item),
            ("PUT", re.compile(item + r"/move"), "playlist_move_item", self.move_item),
        ]

    # -- helpers ---------------------------------------------------------------------------

    def _track_keys(self, request: Request) -> list[int]:
        uri = request.param("uri")
        match = _URI.fullmatch(uri or "")
        if match is None:
            raise QueryError(
                "uri must be server://<machineIdentifier>/com.plexapp.plugins.library/library/metadata/<ids>"
            )
        if match.group(1) != self.server.machine_identifier:
            raise QueryError("uri names another server")
        keys: list[int] = []
        for raw in match.group(2).split(","):
            hit = self.server.find(int(raw)) if raw else None
            item, library = (hit[0], hit[1].library) if hit else (None, None)
            if isinstance(item, Track):
                keys.append(item.rating_key)
            elif isinstance(item, Album) and library is not None:
                keys.extend(t.rating_key for t in library.tracks_of_album(item.rating_key))
            elif isinstance(item, Artist) and library is not None:
                keys.extend(t.rating_key for t in library.tracks_of_artist(item.rating_key))
        if not keys:
            raise QueryError("uri names no playable items")
        return keys

    def _playlist(self, view: PlaylistView) -> bytes:
        duration = sum(self._track(k)[0].duration_ms for k in view.item_keys)
        return self.server.xml.playlist(view, duration=duration)

    def _track(self, rating_key: int) -> tuple[Track, PlexXml]:
        hit = self.server.find(rating_key)
        assert hit is not None and isinstance(hit[0], Track), rating_key
        return hit[0], hit[1]

    def _one(self, view: PlaylistView | None, **extra: object) -> Response:
        if view is None:
            return html_error(404, "Not Found")
        return xml_response(document([self._playlist(view)], {"size": 1, **extra}))

    # -- handlers --------------------------------------------------------------------------

    def list_all(self, request: Request, match: re.Match[str]) -> Response:
        """GET /playlists?playlistType=audio&title=part&smart=0"""
        views = self.store.all()
        kind, title, smart = (
            request.param("playlistType"),
            request.param("title"),
            request.param("smart"),
        )
        if kind:
            views = [v for v in views if v.playlist_type == kind]
        if title:
            views = [v for v in views if title.casefold() in v.title.casefold()]
        if smart == "1":
            views = []
        page, attrs = self.server.page(request, views)
        return xml_response(document([self._playlist(v) for v in page], attrs))

    def create(self, request: Request, match: re.Match[str]) -> Response:
        """POST /playlists?uri=...&type=audio&title=...&smart=0; the first child is <Playlist>."""
        if request.param("smart", "0") != "0":
            raise QueryError("smart playlists are not supported by the fake")
        if request.param("type") != "audio":
            raise QueryError("only type=audio playlists are supported")
        title = request.param("title")
        if not title:
            raise QueryError("title is required")
        view = self.store.create(title, "audio", self._track_keys(request))
        return self._one(view)

    def get(self, request: Request, match: re.Match[str]) -> Response:
        """GET /playlists/{id}"""
        return self._one(self.store.get(int(match.group(1))))

    def edit(self, request: Request, match: re.Match[str]) -> Response:
        """PUT /playlists/{id}?title.value=...&summary.value=... (a real server answers empty)."""
        title = request.param("title.value", request.param("title"))
        summary = request.param("summary.value", request.param("summary"))
        view = self.store.edit(int(match.group(1)), title=title, summary=summary)
        return _empty_ok() if view else html_error(404, "Not Found")

    def delete(self, request: Request, match: re.Match[str]) -> Response:
        """DELETE /playlists/{id}"""
        return (
            _empty_ok() if self.store.delete(int(match.group(1))) else html_error(404, "Not Found")
        )

    def items(self, request: Request, match: re.Match[str]) -> Response:
        """GET /playlists/{id}/items: tracks carrying playlistItemID, paged."""
        view = self.store.get(int(match.group(1)))
        if view is None:
            return html_error(404, "Not Found")
        page, attrs = self.server.page(request, view.items)
        children = []
        for entry in page:
            track, xml = self._track(entry.rating_key)
            children.append(xml.playlist_item(track, entry.playlist_item_id))
        head = {
            "ratingKey": view.rating_key,
            "title": view.title,
            "playlistType": view.playlist_type,
            "smart": 0,
            "leafCount": len(view.items),
            "composite": f"/playlists/{view.rating_key}/composite/{view.updated_at}",
        }
        return xml_response(document(children, head | attrs))

    def add(self, request: Request, match: re.Match[str]) -> Response:
        """PUT /playlists/{id}/items?uri=..."""
        keys = self._track_keys(request)
        view = self.store.add(int(match.group(1)), keys)
        return self._one(view, leafCountAdded=len(keys), leafCountRequested=len(keys))

    def clear(self, request: Request, match: re.Match[str]) -> Response:
        """DELETE /playlists/{id}/items"""
        return self._one(self.store.clear(int(match.group(1))))

    def remove_item(self, request: Request, match: re.Match[str]) -> Response:
        """DELETE /playlists/{id}/items/{playlistItemID}"""
        return self._one(self.store.remove_item(int(match.group(1)), int(match.group(2))))

    def move_item(self, request: Request, match: re.Match[str]) -> Response:
        """PUT /playlists/{id}/items/{playlistItemID}/move?after={playlistItemID}"""
        after = request.param("after")
        after_id = int(after) if after and after.isdigit() else None
        return self._one(self.store.move(int(match.group(1)), int(match.group(2)), after_id))
