"""What the playlist generators read from Plex, and writing the playlists back.

Reads are paged (1,000 items per request) and batched (``/library/metadata/1,2,3``): never
one request per track. Tracks are read from the XML itself (see ``enrichment.plex``), with
every attribute a real server may leave out treated as optional.

Writing touches exactly one Plex playlist: the one a managed playlist was written to before
(same server, same rating key, same guid), whose items, title and summary are replaced in
place; when there is none (never written, deleted in Plex, another server) a new one is made.
No other playlist is ever looked up, edited or deleted, whatever its title.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
from plexapi.exceptions import BadRequest, NotFound
from plexapi.playlist import Playlist as PlexPlaylist
from plexapi.utils import joinArgs

from enrichment.http import TransientProviderError
from enrichment.plex import PROVIDER, PlexLibrary, transient
from jobs.cancel import NEVER, CancelToken

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

logger = logging.getLogger(__name__)

# History entries and artist names are small: larger pages than the listings' 1,000 save
# round trips (a month of a busy library's history is ~10,000 plays).
HISTORY_PAGE = 5000
ARTIST_PAGE = 5000


@dataclass(frozen=True)
class TrackInfo:
    """A track as the generators see it.

    ``album_artist`` is Plex's ``grandparentTitle``; ``original_title`` the track's own
    artist credit when it differs ("A feat. B", a compilation track's artist), else "".
    """

    rating_key: str
    title: str
    album_artist: str
    album: str
    duration_ms: int
    user_rating: float | None
    view_count: int
    last_viewed_at: datetime | None
    genres: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    original_title: str = ""
    # The first media file as Plex names it (``<Part file=…>``); "" when not sent.
    file: str = ""

    @property
    def credit(self) -> str:
        """The artist as Plex shows it for this track."""
        return self.original_title or self.album_artist


@dataclass(frozen=True)
class PlayInfo:
    rating_key: str
    viewed_at: datetime


@dataclass(frozen=True)
class History:
    """Plays of the section; ``removed`` counts the entries of items deleted since (a real
    server lists them without a rating key), which are skipped."""

    plays: list[PlayInfo]
    removed: int = 0


@dataclass(frozen=True)
class PlexPlaylistRef:
    """Where a managed playlist lives in Plex, and the title it was last written with.

    An empty ``machine_identifier`` marks a playlist written before it was stored: it is
    taken for ours only while it still has ``title``.
    """

    rating_key: str
    guid: str
    machine_identifier: str
    title: str = ""


@dataclass(frozen=True)
class Written:
    """The outcome of writing a playlist: where it is, whether it was new, and the tracks it
    holds (the chosen ones Plex still had), in order."""

    ref: PlexPlaylistRef
    created: bool
    rating_keys: tuple[str, ...]
    # Each track's first media file, where Plex named it (listings leave it out).
    files: dict[str, str] = field(default_factory=dict)


def _float(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _count(raw: str | None) -> int:
    """A count or a duration: absent, junk or negative is 0."""
    value = _float(raw)
    return max(0, int(value)) if value is not None else 0


def _moment(raw: str | None) -> datetime | None:
    value = _float(raw)
    try:
        return datetime.fromtimestamp(value, UTC) if value is not None else None
    except (OverflowError, OSError, ValueError):
        return None


def _tags(element: Element, kind: str) -> tuple[str, ...]:
    return tuple(tag for child in element.iterfind(kind) if (tag := child.get("tag")))


def track_of(element: Element) -> TrackInfo:
    """A ``<Track>`` element as a ``TrackInfo``; absent ``userRating``, ``viewCount``,
    ``lastViewedAt`` or track-level ``duration`` (then the first media version's) are fine."""
    duration = _count(element.get("duration"))
    if not duration:
        duration = next(
            (d for m in element.iterfind("Media") if (d := _count(m.get("duration")))), 0
        )
    return TrackInfo(
        rating_key=element.get("ratingKey", ""),
        title=element.get("title", ""),
        album_artist=element.get("grandparentTitle", ""),
        album=element.get("parentTitle", ""),
        duration_ms=duration,
        user_rating=_float(element.get("userRating")),
        view_count=_count(element.get("viewCount")),
        last_viewed_at=_moment(element.get("lastViewedAt")),
        genres=_tags(element, "Genre"),
        moods=_tags(element, "Mood"),
        original_title=element.get("originalTitle", ""),
        file=next((f for p in element.iterfind("Media/Part") if (f := p.get("file"))), ""),
    )


def _first_file(item: Any) -> str:
    for media in getattr(item, "media", None) or ():
        for part in getattr(media, "parts", None) or ():
            if part.file:
                return str(part.file)
    return ""


def _tracks(elements: Any) -> list[TrackInfo]:
    return [track_of(e) for e in elements if e.get("type") == "track" and e.get("ratingKey")]


class PlaylistPlex:
    """The music section seen by the playlist generators."""

    def __init__(self, library: PlexLibrary) -> None:
        self.library = library
        self.server = library.server
        self._artist_names: list[str] | None = None

    @property
    def machine_identifier(self) -> str:
        return str(self.server.machineIdentifier or "")

    def artist_names(self) -> list[str]:
        """The section's artists, read once per generation (``ARTIST_PAGE`` a request: the
        names are small, and each request costs a round trip)."""
        if self._artist_names is None:
            key = f"/library/sections/{self.library.section.key}/all"
            with transient("artist listing"):
                found = self.library.elements(key, page=ARTIST_PAGE, params={"type": 8})
                self._artist_names = [n for e in found if (n := e.get("title"))]
        return self._artist_names

    def all_tracks(self, *, cancel: CancelToken = NEVER) -> list[TrackInfo]:
        cancel.raise_if_cancelled()
        return _tracks(self.library.listing("track"))

    def top_tracks(self, sort: str, *, limit: int, cancel: CancelToken = NEVER) -> list[TrackInfo]:
        """The first ``limit`` tracks by a Plex sort (``userRating:desc``, ``viewCount:desc``)."""
        cancel.raise_if_cancelled()
        return _tracks(self.library.listing("track", sort=sort, limit=limit))

    def tracks(self, rating_keys: list[str], *, cancel: CancelToken = NEVER) -> list[TrackInfo]:
        """Full metadata of these tracks; keys Plex no longer has are counted in
        ``library.missing`` and logged."""
        return _tracks(self.library.metadata_elements(rating_keys, cancel=cancel))

    def plays(
        self, *, since: datetime, until: datetime | None = None, cancel: CancelToken = NEVER
    ) -> History:
        """Play history of the section between two moments, newest first."""
        cancel.raise_if_cancelled()
        args: dict[str, Any] = {
            "sort": "viewedAt:desc",
            "librarySectionID": self.library.section.key,
            "viewedAt>": int(since.timestamp()),
        }
        if until is not None:
            args["viewedAt<"] = int(until.timestamp())
        key = f"/status/sessions/history/all{joinArgs(args)}"
        plays, removed = [], 0
        with transient("history request"):
            for entry in self.library.elements(key, page=HISTORY_PAGE):
                viewed_at = _moment(entry.get("viewedAt"))
                if viewed_at is None:
                    continue
                rating_key = entry.get("ratingKey")
                if not rating_key:
                    removed += 1
                    continue
                plays.append(PlayInfo(rating_key, viewed_at))
        return History(plays, removed)

    def write_playlist(
        self,
        *,
        target: PlexPlaylistRef | None,
        title: str,
        summary: str,
        rating_keys: list[str],
        cancel: CancelToken = NEVER,
    ) -> Written:
        """Put these tracks, in order, with this title and summary into the playlist
        ``target``, in place; create a new playlist only if ``target`` is gone or unknown.

        In place means: its items are cleared and the new ones added (two requests), then
        title and summary set in one edit; the playlist keeps its rating key, so pins,
        shares and its place in lists survive. Nothing is ever deleted but its items.
        """
        cancel.raise_if_cancelled()
        with transient("playlist write"):
            items = [
                i for i in self.library.metadata(rating_keys, cancel=cancel) if i.TYPE == "track"
            ]
            if not items:
                raise TransientProviderError(PROVIDER, "none of the chosen tracks is in Plex")
            order = {key: i for i, key in enumerate(rating_keys)}
            items.sort(key=lambda i: order.get(str(i.ratingKey), len(order)))
            playlist = self._ours(target)
            created = playlist is None
            if playlist is None:
                playlist = self.server.createPlaylist(title, items=items)
                try:
                    playlist.editSummary(summary)
                except (BadRequest, NotFound, requests.RequestException):
                    # The playlist exists now: record it whatever happens to its summary (the
                    # next generation sets it), or a retry would create a second one.
                    logger.warning("playlist %s: its summary was not set", playlist.ratingKey)
            else:
                # plexapi has no call for Plex's "clear the playlist" (DELETE .../items).
                self.server.query(f"{playlist.key}/items", method=self.server._session.delete)
                playlist.addItems(items)
                playlist.batchEdits()
                playlist.editTitle(title).editSummary(summary)
                playlist.saveEdits()
        ref = PlexPlaylistRef(
            str(playlist.ratingKey), str(playlist.guid or ""), self.machine_identifier, title
        )
        return Written(
            ref, created, tuple(str(i.ratingKey) for i in items), {
                str(i.ratingKey): file for i in items if (file := _first_file(i))
            }
        )  # fmt: skip

    def _ours(self, target: PlexPlaylistRef | None) -> PlexPlaylist | None:
        """The Plex playlist ``target`` names, if it still exists and is still the one we
        wrote (same server, a regular audio playlist, the same guid); else None."""
        if target is None or not target.rating_key:
            return None
        legacy = not target.machine_identifier
        if not legacy and target.machine_identifier != self.machine_identifier:
            logger.info("playlist %s was written to another server", target.rating_key)
            return None
        try:
            found = self.server.fetchItem(f"/playlists/{target.rating_key}")
        except NotFound:
            logger.info("playlist %s was deleted in Plex: creating it anew", target.rating_key)
            return None
        if (
            not isinstance(found, PlexPlaylist)
            or found.smart
            or found.playlistType != "audio"
            or (target.guid and found.guid != target.guid)
            or (legacy and found.title != target.title)
        ):
            logger.warning("Plex item %s is no longer our playlist", target.rating_key)
            return None
        return found
