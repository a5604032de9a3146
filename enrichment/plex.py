"""Plex through plexapi: the music section, paged listings and batched full metadata.

A section listing carries at most two genres and no styles or moods; full metadata carries
them all. Reading it per item would be one request per artist (the N+1 that
``PLEXAPI_PLEXAPI_AUTORELOAD=false``, set in settings, also prevents), so it is fetched for
many items at once: ``/library/metadata/1,2,3``.

The listings and tags the cache warmers need are read from the XML itself rather than through
plexapi's objects: building one costs about a millisecond of CPU (600 artists: ~0.8 s, all
of it holding the GIL the provider threads need), reading a few attributes next to nothing.

Real servers differ from a tidy fake in ways this module absorbs: several music sections,
some hidden; answers to ``/library/metadata/<ids>`` that carry ``size`` but no ``totalSize``
(plexapi's ``fetchItems`` pages by 100 and trusts ``totalSize``, so it silently kept 100 of
200); items asked for and not returned (deleted meanwhile), which are counted and named in
the log rather than dropped in silence.
"""

from __future__ import annotations

import itertools
import logging
import os
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from enrichment.http import ProviderConfigError, TransientProviderError
from jobs.cancel import NEVER, CancelToken
from jobs.context import record_usage

# In case plexapi is first imported before settings were read (a script, a shell).
os.environ.setdefault("PLEXAPI_PLEXAPI_AUTORELOAD", "false")
os.environ.setdefault("PLEXAPI_PLEXAPI_TIMEZONE", "UTC")

from plexapi.exceptions import BadRequest, NotFound, Unauthorized
from plexapi.library import MusicSection
from plexapi.server import PlexServer
from plexapi.utils import setDatetimeTimezone

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from xml.etree.ElementTree import Element

    from requests import Response

setDatetimeTimezone("UTC")
logger = logging.getLogger(__name__)

PROVIDER = "Plex"
PAGE_SIZE = 1000
# Keys per ``/library/metadata/<ids>`` request, asked as one page of exactly that size: no
# larger than plexapi's own page (100), so even its paging could not lose a part of it.
METADATA_BATCH = 100
# Plex's type numbers for a section listing (``/library/sections/1/all?type=8``).
_LIBTYPES = {"artist": 8, "album": 9, "track": 10}


@dataclass(frozen=True)
class Tags:
    genres: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    moods: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlexItem:
    """An artist or album as a section listing gives it (two genres at most)."""

    rating_key: str
    title: str
    genres: list[str]
    artist: str = ""  # albums: the album artist


def _xml_tags(element: Element, kind: str) -> list[str]:
    """The ``tag`` of each ``<Genre>``/``<Style>``/``<Mood>`` child, in order."""
    return [tag for child in element.iterfind(kind) if (tag := child.get("tag"))]


class _CountingAdapter(HTTPAdapter):
    """Counts every request plexapi sends, and those that failed (no answer, or HTTP 4xx/5xx),
    in the job's usage of Plex (``jobs.context.record_usage``; shown by /metrics)."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        try:
            response = super().send(request, *args, **kwargs)
        except requests.RequestException:
            record_usage(PROVIDER, requests=1, errors=1)
            raise
        record_usage(PROVIDER, requests=1, errors=int(response.status_code >= 400))
        return response


def _counting_session() -> requests.Session:
    session = requests.Session()
    adapter = _CountingAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def connect(
    *, url: str | None = None, token: str | None = None, timeout: float | None = None
) -> PlexServer:
    """Connect to the configured server; a failure names the setting to fix."""
    url = url if url is not None else settings.PLAYLISTER_PLEX_URL
    token = token if token is not None else settings.PLAYLISTER_PLEX_TOKEN
    if not url:
        raise ProviderConfigError(PROVIDER, "no server configured: set PLAYLISTER_PLEX_URL")
    try:
        return PlexServer(
            url,
            token,
            session=_counting_session(),
            timeout=timeout or settings.PLAYLISTER_HTTP_TIMEOUT,
        )
    except Unauthorized:
        raise ProviderConfigError(
            PROVIDER, f"{url} refused the token: check PLAYLISTER_PLEX_TOKEN"
        ) from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise ProviderConfigError(
            PROVIDER,
            f"cannot reach {url} ({type(exc).__name__}): check PLAYLISTER_PLEX_URL",
        ) from None


@dataclass(frozen=True)
class Section:
    """A music section as ``/library/sections`` lists it."""

    key: str
    title: str
    hidden: bool

    def describe(self) -> str:
        return f"{self.title!r} (key {self.key}{', hidden' if self.hidden else ''})"


def choose_section(sections: Iterable[Section], wanted: str, *, where: str) -> Section:
    """The section ``wanted`` names (its title, or its key), else the first visible one.

    A hidden section (``hidden`` other than 0: kept off the home screen, often audiobooks)
    is only used when named. Failing, the error lists the music sections to choose from.
    """
    music = list(sections)
    if wanted:
        for matches in (
            lambda s: s.title == wanted or s.key == wanted,
            lambda s: s.title.casefold() == wanted.casefold(),
        ):
            found = [s for s in music if matches(s)]
            if found:
                return found[0]
        problem = f"no music section {wanted!r} on {where}"
    else:
        visible = [s for s in music if not s.hidden]
        if visible:
            return visible[0]
        problem = f"no visible music section on {where}"
    if not music:
        raise ProviderConfigError(PROVIDER, f"no music section on {where}: add one in Plex")
    choices = ", ".join(s.describe() for s in music)
    raise ProviderConfigError(
        PROVIDER, f"{problem}: set PLAYLISTER_PLEX_SECTION to one of {choices}"
    )


@contextmanager
def transient(what: str) -> Iterator[None]:
    """Plex's request errors as ``TransientProviderError`` ("Plex: <what> failed (...)")."""
    try:
        yield
    except (BadRequest, NotFound, requests.ConnectionError, requests.Timeout) as exc:
        raise TransientProviderError(PROVIDER, f"{what} failed ({type(exc).__name__})") from None


class PlexLibrary:
    """The chosen music section of a Plex server.

    ``missing`` counts the items asked for by key that the server did not return.
    """

    def __init__(self, server: PlexServer, *, section: str | None = None) -> None:
        self.server = server
        self.missing = 0
        wanted = section if section is not None else settings.PLAYLISTER_PLEX_SECTION
        # Straight to /library/sections: ``server.library`` would first read /library, a
        # request (one provider latency before any work starts) whose answer we never use.
        key = "/library/sections"
        elements = {e.get("key", ""): e for e in server.query(key) if e.get("type") == "artist"}
        sections = [
            Section(k, e.get("title", ""), e.get("hidden", "0") not in ("", "0"))
            for k, e in elements.items()
        ]
        chosen = choose_section(sections, wanted, where=server._baseurl)
        self.section: MusicSection = MusicSection(server, elements[chosen.key], initpath=key)

    def artists(self, *, cancel: CancelToken = NEVER) -> list[PlexItem]:
        cancel.raise_if_cancelled()
        return [
            PlexItem(e.get("ratingKey", ""), e.get("title", ""), _xml_tags(e, "Genre"))
            for e in self.listing("artist")
        ]

    def albums(self, *, cancel: CancelToken = NEVER) -> list[PlexItem]:
        cancel.raise_if_cancelled()
        return [
            PlexItem(
                e.get("ratingKey", ""),
                e.get("title", ""),
                _xml_tags(e, "Genre"),
                e.get("parentTitle", ""),
            )
            for e in self.listing("album")
        ]

    def listing(
        self, libtype: str, *, sort: str | None = None, limit: int | None = None
    ) -> list[Element]:
        """The section's items of one type (what ``section.search(libtype=...)`` asks for,
        without building its objects), ``PAGE_SIZE`` per request."""
        key = f"/library/sections/{self.section.key}/all"
        params: dict[str, Any] = {"type": _LIBTYPES[libtype], "includeGuids": 1}
        if sort:
            params["sort"] = sort
        page = PAGE_SIZE if limit is None else min(limit, PAGE_SIZE)
        with transient("listing"):
            found = list(self.elements(key, page=page, params=params, limit=limit))
        return [e for e in found if e.get("ratingKey")]

    def elements(
        self,
        key: str,
        *,
        page: int,
        params: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[Element]:
        """Every child of a container, ``page`` per request, at most ``limit``.

        ``totalSize`` ends the paging when the server sends it; without it, a page shorter
        than asked is the last (a full one costs one more request to be sure).
        """
        start = 0
        while limit is None or start < limit:
            size = page if limit is None else min(page, limit - start)
            headers = {"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(size)}
            data = self.server.query(key, headers=headers, params=params)
            if data is None:
                return
            children = list(data)
            yield from children
            start += size
            total = data.get("totalSize")
            if total is not None and start >= int(total):
                return
            if total is None and len(children) < size:
                return

    def metadata_elements(
        self, rating_keys: Iterable[str], *, cancel: CancelToken = NEVER
    ) -> Iterator[Element]:
        """Full metadata of many items as XML elements, ``METADATA_BATCH`` per request."""
        for _, container in self._metadata(rating_keys, cancel):
            yield from container

    def metadata(self, rating_keys: Iterable[str], *, cancel: CancelToken = NEVER) -> Iterator[Any]:
        """Full metadata of many items as plexapi objects, ``METADATA_BATCH`` per request."""
        for path, container in self._metadata(rating_keys, cancel):
            yield from self.server.findItems(container, initpath=path)

    def full_tags(
        self, rating_keys: list[str], *, cancel: CancelToken = NEVER
    ) -> Iterator[tuple[str, Tags]]:
        """Genres, styles and moods of many items, ``METADATA_BATCH`` per request."""
        for e in self.metadata_elements(rating_keys, cancel=cancel):
            tags = Tags(_xml_tags(e, "Genre"), _xml_tags(e, "Style"), _xml_tags(e, "Mood"))
            yield e.get("ratingKey", ""), tags

    def _metadata(
        self, rating_keys: Iterable[str], cancel: CancelToken
    ) -> Iterator[tuple[str, Element]]:
        """``(path, container)`` of ``/library/metadata/1,2,3`` for each batch of keys, each
        asked as one page of exactly its size; what did not come back is counted and logged.
        A batch whose items are all gone answers 404; a failed request is transient."""
        keys = list(dict.fromkeys(k for k in rating_keys if k))
        for batch in itertools.batched(keys, METADATA_BATCH):
            cancel.raise_if_cancelled()
            path = f"/library/metadata/{','.join(batch)}"
            headers = {"X-Plex-Container-Start": "0", "X-Plex-Container-Size": str(len(batch))}
            container = None
            # 404: every item of the batch is gone (counted as missing below).
            with transient("metadata request"), suppress(NotFound):
                container = self.server.query(path, headers=headers)
            returned = set() if container is None else {e.get("ratingKey") for e in container}
            self._count_missing([k for k in batch if k not in returned])
            if container is not None:
                yield path, container

    def _count_missing(self, missing: list[str]) -> None:
        if not missing:
            return
        self.missing += len(missing)
        shown = ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")
        logger.warning(
            "Plex did not return %d of the items asked for (deleted meanwhile?): %s",
            len(missing),
            shown,
        )
