"""Plex through plexapi: the music section, paged listings and batched full metadata.

A section listing carries at most two genres and no styles or moods; full metadata carries
them all. Reading it per item would be one request per artist (the N+1 that
``PLEXAPI_PLEXAPI_AUTORELOAD=false``, set in settings, also prevents), so it is fetched for
many items at once: ``/library/metadata/1,2,3``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings

from enrichment.http import ProviderConfigError, TransientProviderError
from jobs.cancel import NEVER, CancelToken

# In case plexapi is first imported before settings were read (a script, a shell).
os.environ.setdefault("PLEXAPI_PLEXAPI_AUTORELOAD", "false")
os.environ.setdefault("PLEXAPI_PLEXAPI_TIMEZONE", "UTC")

from plexapi.exceptions import BadRequest, NotFound, Unauthorized
from plexapi.server import PlexServer
from plexapi.utils import setDatetimeTimezone

if TYPE_CHECKING:
    from collections.abc import Iterator

    from plexapi.library import MusicSection

setDatetimeTimezone("UTC")

PROVIDER = "Plex"
PAGE_SIZE = 1000
METADATA_BATCH = 200


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


def connect(
    *, url: str | None = None, token: str | None = None, timeout: float | None = None
) -> PlexServer:
    """Connect to the configured server; a failure names the setting to fix."""
    url = url if url is not None else settings.PLAYLISTER_PLEX_URL
    token = token if token is not None else settings.PLAYLISTER_PLEX_TOKEN
    if not url:
        raise ProviderConfigError(PROVIDER, "no server configured: set PLAYLISTER_PLEX_URL")
    try:
        return PlexServer(url, token, timeout=timeout or settings.PLAYLISTER_HTTP_TIMEOUT)
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
        music = [s for s in server.library.sections() if s.type == "artist"]
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
        items = self._search("artist")
        return [PlexItem(str(a.ratingKey), str(a.title), _tags(a.genres)) for a in items]

    def albums(self, *, cancel: CancelToken = NEVER) -> list[PlexItem]:
        cancel.raise_if_cancelled()
        items = self._search("album")
        return [
            PlexItem(str(a.ratingKey), str(a.title), _tags(a.genres), str(a.parentTitle or ""))
            for a in items
        ]

    def _search(self, libtype: str) -> list[Any]:
        try:
            return list(self.section.search(libtype=libtype, container_size=PAGE_SIZE))
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientProviderError(
                PROVIDER, f"listing failed ({type(exc).__name__})"
            ) from None

    def metadata(self, rating_keys: list[str], *, cancel: CancelToken = NEVER) -> Iterator[Any]:
        """Full metadata of many items, ``METADATA_BATCH`` per request."""
        for start in range(0, len(rating_keys), METADATA_BATCH):
            cancel.raise_if_cancelled()
            batch = rating_keys[start : start + METADATA_BATCH]
            try:
                yield from self.server.fetchItems(f"/library/metadata/{','.join(batch)}")
            except NotFound:
                continue
            except (BadRequest, requests.ConnectionError, requests.Timeout) as exc:
                raise TransientProviderError(
                    PROVIDER, f"metadata request failed ({type(exc).__name__})"
                ) from None

    def full_tags(
        self, rating_keys: list[str], *, cancel: CancelToken = NEVER
    ) -> Iterator[tuple[str, Tags]]:
        """Genres, styles and moods of many items."""
        for item in self.metadata(rating_keys, cancel=cancel):
            yield (
                str(item.ratingKey),
                Tags(_tags(item.genres), _tags(getattr(item, "styles", [])), _tags(item.moods)),
            )
