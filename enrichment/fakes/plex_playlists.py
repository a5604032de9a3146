"""The fake Plex server's in-memory, thread-safe playlist store."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PlaylistEntry:
    """One slot of a playlist: Plex's ``playlistItemID`` and the track's rating key."""

    playlist_item_id: int
    rating_key: int


@dataclass(frozen=True, slots=True)
class PlaylistView:
    """An immutable snapshot of a playlist, for XML and for tests to assert on."""

    rating_key: int
    title: str
    summary: str
    playlist_type: str
    smart: bool
    guid: str
    added_at: int
    updated_at: int
    items: tuple[PlaylistEntry, ...]

    @property
    def item_keys(self) -> tuple[int, ...]:
        """Rating keys of the items in playlist order."""
        return tuple(entry.rating_key for entry in self.items)


@dataclass(slots=True)
class _Playlist:
    rating_key: int
    title: str
    playlist_type: str
    guid: str
    added_at: int
    updated_at: int
    summary: str = ""
    items: list[PlaylistEntry] = field(default_factory=list)

    def view(self) -> PlaylistView:
        return PlaylistView(
            rating_key=self.rating_key,
            title=self.title,
            summary=self.summary,
            playlist_type=self.playlist_type,
            smart=False,
            guid=self.guid,
            added_at=self.added_at,
            updated_at=self.updated_at,
            items=tuple(self.items),
        )


def _now() -> int:
    return int(time.time())


class PlaylistStore:
    """Regular (non-smart) playlists; rating keys continue above the library's own keys."""

    def __init__(self, first_rating_key: int) -> None:
        self._lock = threading.Lock()
        self._playlists: dict[int, _Playlist] = {}
        self._keys = itertools.count(first_rating_key)
        self._item_ids = itertools.count(1)

    def create(self, title: str, playlist_type: str, rating_keys: list[int]) -> PlaylistView:
        """A new playlist holding ``rating_keys`` in order."""
        with self._lock:
            now = _now()
            playlist = _Playlist(
                rating_key=next(self._keys),
                title=title,
                playlist_type=playlist_type,
                guid=f"com.plexapp.agents.none://{uuid.uuid4()}",
                added_at=now,
                updated_at=now,
            )
            playlist.items.extend(PlaylistEntry(next(self._item_ids), k) for k in rating_keys)
            self._playlists[playlist.rating_key] = playlist
            return playlist.view()

    def get(self, rating_key: int) -> PlaylistView | None:
        """The playlist, or ``None``."""
        with self._lock:
            playlist = self._playlists.get(rating_key)
            return playlist.view() if playlist else None

    def all(self) -> list[PlaylistView]:
        """Every playlist, oldest first."""
        with self._lock:
            return [p.view() for p in self._playlists.values()]

    def add(self, rating_key: int, rating_keys: list[int]) -> PlaylistView | None:
        """Append items (duplicates allowed, as in Plex); ``None`` if no such playlist."""
        with self._lock:
            playlist = self._playlists.get(rating_key)
            if playlist is None:
                return None
            playlist.items.extend(PlaylistEntry(next(self._item_ids), k) for k in rating_keys)
            playlist.updated_at = _now()
            return playlist.view()

    def remove_item(self, rating_key: int, playlist_item_id: int) -> PlaylistView | None:
        """Drop one slot; ``None`` if the playlist or the slot does not exist."""
        with self._lock:
            playlist = self._playlists.get(rating_key)
            if playlist is None:
                return None
            kept = [e for e in playlist.items if e.playlist_item_id != playlist_item_id]
            if len(kept) == len(playlist.items):
                return None
            playlist.items = kept
            playlist.updated_at = _now()
            return playlist.view()

    def clear(self, rating_key: int) -> PlaylistView | None:
        """Remove every item; ``None`` if no such playlist."""
        with self._lock:
            playlist = self._playlists.get(rating_key)
            if playlist is None:
                return None
            playlist.items = []
            playlist.updated_at = _now()
            return playlist.view()

    def move(
        self, rating_key: int, playlist_item_id: int, after: int | None
    ) -> PlaylistView | None:
        """Move a slot to the front or right after slot ``after``; ``None`` if unknown."""
        with self._lock:
            playlist = self._playlists.get(rating_key)
            if playlist is None:
                return None
            moving = next(
                (e for e in playlist.items if e.playlist_item_id == playlist_item_id), None
            )
            if moving is None:
                return None
            rest = [e for e in playlist.items if e is not moving]
            if after is None:
                position = 0
            else:
                anchor = next((i for i, e in enumerate(rest) if e.playlist_item_id == after), None)
                if anchor is None:
                    return None
                position = anchor + 1
            rest.insert(position, moving)
            playlist.items = rest
            playlist.updated_at = _now()
            return playlist.view()

    def edit(
        self, rating_key: int, *, title: str | None = None, summary: str | None = None
    ) -> PlaylistView | None:
        """Change title and/or summary; ``None`` if no such playlist."""
        with self._lock:
            playlist = self._playlists.get(rating_key)
            if playlist is None:
                return None
            if title is not None:
                playlist.title = title
            if summary is not None:
                playlist.summary = summary
            playlist.updated_at = _now()
            return playlist.view()

    def delete(self, rating_key: int) -> bool:
        """Delete a playlist; False if it did not exist."""
        with self._lock:
            return self._playlists.pop(rating_key, None) is not None
