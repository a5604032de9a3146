"""Plex through plexapi: the music section, paged listings and batched full metadata.

A section listing carries at most two genres and no styles or moods; full metadata carries
them all. Reading it per item would be one request per artist (the N+1 that
``PLEXAPI_PLEXAPI_AUTORELOAD=false``, set in settings, also prevents), so it is fetched for
many items at once: ``/library/metadata/1,2,3``.

The listings and tags the cache warmers need are read from the XML itself rather than through
plexapi's objects: building one costs about a millisecond of CPU (600 artists: ~0.8 s, all
of it holding the GIL the provider threads need), reading a few attributes next to nothing.
"""

from __future__ import annotations

import os
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
    from collections.abc import Callable, Iterator
    from xml.etree.ElementTree import Element

    from requests import Response

setDatetimeTimezone("UTC")

PROVIDER = "Plex"
PAGE_SIZE = 1000
METADATA_BATCH = 200
# Plex's type numbers for a section listing (``/library/sections/1/all?type=8``).
_LIBTYPES = {"artist": 8, "album": 9}


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


def _tags(items: Any) -> list[str]:
    return [str(t.tag) for t in items or [] if getattr(t, "tag", None)]


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


class PlexLibrary:
    """The music section of a Plex server."""

    def __init__(self, server: PlexServer, *, section: str | None = None) -> None:
        self.server = server
        self.requests = 0
        wanted = section if section is not None else settings.PLAYLISTER_PLEX_SECTION
        # Straight to /library/sections: ``server.library`` would first read /library, a
        # request (one provider latency before any work starts) whose answer we never use.
        key = "/library/sections"
        music = [
            MusicSection(server, e, initpath=key)
            for e in server.query(key)
            if e.get("type") == "artist"
        ]
        if wanted:
            music = [s for s in music if s.title == wanted]
        if not music:
            what = f"music section {wanted!r}" if wanted else "music section"
            raise ProviderConfigError(
                PROVIDER, f"no {what} on {server._baseurl}: check PLAYLISTER_PLEX_SECTION"
            )
        self.section: MusicSection = music[0]

    def artists(self, *, cancel: CancelToken = NEVER) -> list[PlexItem]:
        cancel.raise_if_cancelled()
        return [
            PlexItem(e.get("ratingKey", ""), e.get("title", ""), _xml_tags(e, "Genre"))
            for e in self._listing("artist")
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
            for e in self._listing("album")
        ]

    def _listing(self, libtype: str) -> list[Element]:
        # What ``section.search(libtype=...)`` asks for, without building its objects.
        key = f"/library/sections/{self.section.key}/all"
        params = {"type": _LIBTYPES[libtype], "includeGuids": 1}
        try:
            return list(self._elements(key, page=PAGE_SIZE, params=params))
        except (BadRequest, NotFound, requests.ConnectionError, requests.Timeout) as exc:
            raise TransientProviderError(
                PROVIDER, f"listing failed ({type(exc).__name__})"
            ) from None

    def _elements(
        self, key: str, *, page: int, params: dict[str, Any] | None = None
    ) -> Iterator[Element]:
        """The items of a container as XML elements, ``page`` per request (the paging of
        plexapi's ``fetchItems``)."""
        start = 0
        while True:
            headers = {"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(page)}
            data = self.server.query(key, headers=headers, params=params)
            if data is None:
                return
            items = [e for e in data if e.get("ratingKey")]
            yield from items
            total = int(data.get("totalSize") or data.get("size") or len(items))
            start += page
            if not items or start >= total:
                return

    def metadata(self, rating_keys: list[str], *, cancel: CancelToken = NEVER) -> Iterator[Any]:
        """Full metadata of many items (plexapi objects), ``METADATA_BATCH`` per request."""
        return self._in_batches(rating_keys, cancel, self.server.fetchItems)

    def full_tags(
        self, rating_keys: list[str], *, cancel: CancelToken = NEVER
    ) -> Iterator[tuple[str, Tags]]:
        """Genres, styles and moods of many items, ``METADATA_BATCH`` per request."""

        def elements(key: str) -> list[Element]:
            return list(self._elements(key, page=METADATA_BATCH))

        for e in self._in_batches(rating_keys, cancel, elements):
            tags = Tags(_xml_tags(e, "Genre"), _xml_tags(e, "Style"), _xml_tags(e, "Mood"))
            yield e.get("ratingKey", ""), tags

    def _in_batches(
        self, rating_keys: list[str], cancel: CancelToken, fetch: Callable[[str], list[Any]]
    ) -> Iterator[Any]:
        """``fetch`` of ``/library/metadata/1,2,3`` for each batch of keys; a batch whose
        items are all gone is skipped, a failed request is transient."""
        for start in range(0, len(rating_keys), METADATA_BATCH):
            cancel.raise_if_cancelled()
            batch = rating_keys[start : start + METADATA_BATCH]
            try:
                items = fetch(f"/library/metadata/{','.join(batch)}")
            except NotFound:
                continue
            except (BadRequest, requests.ConnectionError, requests.Timeout) as exc:
                raise TransientProviderError(
                    PROVIDER, f"metadata request failed ({type(exc).__name__})"
                ) from None
            yield from items
