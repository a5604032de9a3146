"""What the playlist generators read from Plex, and writing the playlists back.

Reads are paged (1,000 items per request) and batched (``/library/metadata/1,2,3``): never
one request per track.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plexapi.utils import joinArgs

from enrichment.plex import PAGE_SIZE, PlexLibrary
from jobs.cancel import NEVER, CancelToken

if TYPE_CHECKING:
    from datetime import datetime


@dataclass(frozen=True)
class TrackInfo:
    rating_key: str
    title: str
    artist: str
    album: str
    duration_ms: int
    user_rating: float | None
    view_count: int
    last_viewed_at: datetime | None
    genres: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlayInfo:
    rating_key: str
    viewed_at: datetime


def _track(item: Any) -> TrackInfo:
    rating = getattr(item, "userRating", None)
    return TrackInfo(
        rating_key=str(item.ratingKey),
        title=str(item.title or ""),
        artist=str(getattr(item, "originalTitle", None) or item.grandparentTitle or ""),
        album=str(item.parentTitle or ""),
        duration_ms=int(item.duration or 0),
        user_rating=float(rating) if rating is not None else None,
        view_count=int(getattr(item, "viewCount", 0) or 0),
        last_viewed_at=getattr(item, "lastViewedAt", None),
        genres=tuple(str(t.tag) for t in getattr(item, "genres", None) or []),
        moods=tuple(str(t.tag) for t in getattr(item, "moods", None) or []),
    )


class PlaylistPlex:
    """The music section seen by the playlist generators."""

    def __init__(self, library: PlexLibrary) -> None:
        self.library = library
        self.server = library.server

    def all_tracks(self, *, cancel: CancelToken = NEVER) -> list[TrackInfo]:
        cancel.raise_if_cancelled()
        items = self.library.section.search(libtype="track", container_size=PAGE_SIZE)
        return [_track(i) for i in items]

    def top_tracks(self, sort: str, *, limit: int, cancel: CancelToken = NEVER) -> list[TrackInfo]:
        """The first ``limit`` tracks by a Plex sort (``userRating:desc``, ``viewCount:desc``)."""
        cancel.raise_if_cancelled()
        items = self.library.section.search(
            libtype="track", sort=sort, maxresults=limit, container_size=min(limit, PAGE_SIZE)
        )
        return [_track(i) for i in items]

    def tracks(self, rating_keys: list[str], *, cancel: CancelToken = NEVER) -> list[TrackInfo]:
        items = self.library.metadata(rating_keys, cancel=cancel)
        return [_track(i) for i in items if getattr(i, "type", "") == "track"]

    def plays(
        self, *, since: datetime, until: datetime | None = None, cancel: CancelToken = NEVER
    ) -> list[PlayInfo]:
        """Play history of the section between two moments, newest first."""
        cancel.raise_if_cancelled()
        args: dict[str, Any] = {
            "sort": "viewedAt:desc",
            "librarySectionID": self.library.section.key,
            "viewedAt>": int(since.timestamp()),
        }
        if until is not None:
            args["viewedAt<"] = int(until.timestamp())
        items = self.server.fetchItems(
            f"/status/sessions/history/all{joinArgs(args)}", container_size=PAGE_SIZE
        )
        return [
            PlayInfo(str(i.ratingKey), i.viewedAt)
            for i in items
            if getattr(i, "viewedAt", None) is not None
        ]

    def replace_playlist(
        self, *, title: str, summary: str, rating_keys: list[str], cancel: CancelToken = NEVER
    ) -> str:
        """Create the playlist, then delete every older one with the same title; returns the
        new playlist's key. Creating first means a failure leaves the old playlist in place."""
        cancel.raise_if_cancelled()
        items = list(self.library.metadata(rating_keys, cancel=cancel))
        order = {key: i for i, key in enumerate(rating_keys)}
        items.sort(key=lambda i: order.get(str(i.ratingKey), len(order)))
        playlist = self.server.createPlaylist(title, items=items)
        playlist.editSummary(summary)
        new_key = str(playlist.ratingKey)
        for old in self.server.playlists(playlistType="audio", title=title):
            if old.title == title and str(old.ratingKey) != new_key:
                old.delete()
        return new_key
