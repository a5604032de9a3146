"""The library's immutable data: artists, albums, tracks, plays and their indexes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


@dataclass(frozen=True, slots=True)
class Artist:
    """A Plex album artist; ``user_rating`` is Plex's 0..10 scale (None = unrated)."""

    rating_key: int
    title: str
    title_sort: str
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    moods: tuple[str, ...]
    added_at: datetime
    updated_at: datetime
    user_rating: float | None
    last_rated_at: datetime | None
    view_count: int
    last_viewed_at: datetime | None
    guid: str
    mbid: str


@dataclass(frozen=True, slots=True)
class Album:
    """An album of one artist."""

    rating_key: int
    artist_key: int
    title: str
    year: int
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    moods: tuple[str, ...]
    added_at: datetime
    updated_at: datetime
    user_rating: float | None
    last_rated_at: datetime | None
    view_count: int
    last_viewed_at: datetime | None
    leaf_count: int
    guid: str


@dataclass(frozen=True, slots=True)
class Track:
    """A track; ``genres`` are the file's embedded genre tags (often none)."""

    rating_key: int
    album_key: int
    artist_key: int
    title: str
    index: int
    disc: int
    duration_ms: int
    genres: tuple[str, ...]
    moods: tuple[str, ...]
    added_at: datetime
    updated_at: datetime
    user_rating: float | None
    last_rated_at: datetime | None
    view_count: int
    last_viewed_at: datetime | None
    guid: str
    file: str


@dataclass(frozen=True, slots=True)
class Play:
    """One play-history entry (Plex's /status/sessions/history/all row)."""

    history_id: int
    track_key: int
    viewed_at: datetime
    account_id: int
    device_id: int


Item = Artist | Album | Track


@dataclass(frozen=True, slots=True)
class _Index:
    by_key: dict[int, Item]
    albums_by_artist: dict[int, tuple[Album, ...]]
    tracks_by_album: dict[int, tuple[Track, ...]]
    tracks_by_artist: dict[int, tuple[Track, ...]]
    artists_by_name: dict[str, Artist]


@dataclass(frozen=True, slots=True)
class Library:
    """An immutable library: artists, albums, tracks (in library order) and plays (oldest first)."""

    seed: int
    now: datetime
    artists: tuple[Artist, ...]
    albums: tuple[Album, ...]
    tracks: tuple[Track, ...]
    plays: tuple[Play, ...]
    section_id: int = 1
    section_title: str = "Music"
    _index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[int, Item] = {}
        items: tuple[Item, ...] = (*self.artists, *self.albums, *self.tracks)
        for item in items:
            if item.rating_key in by_key:
                raise ValueError(f"duplicate rating key {item.rating_key}")
            by_key[item.rating_key] = item
        albums: dict[int, list[Album]] = {a.rating_key: [] for a in self.artists}
        for album in self.albums:
            albums[album.artist_key].append(album)
        by_album: dict[int, list[Track]] = {a.rating_key: [] for a in self.albums}
        by_artist: dict[int, list[Track]] = {a.rating_key: [] for a in self.artists}
        for track in self.tracks:
            by_album[track.album_key].append(track)
            by_artist[track.artist_key].append(track)
        index = _Index(
            by_key=by_key,
            albums_by_artist={k: tuple(v) for k, v in albums.items()},
            tracks_by_album={k: tuple(v) for k, v in by_album.items()},
            tracks_by_artist={k: tuple(v) for k, v in by_artist.items()},
            artists_by_name={a.title.casefold(): a for a in self.artists},
        )
        object.__setattr__(self, "_index", index)

    @property
    def by_key(self) -> Mapping[int, Item]:
        """Every artist, album and track by rating key."""
        return self._index.by_key

    @property
    def max_rating_key(self) -> int:
        """The highest rating key in use (new server-side objects must go above it)."""
        return max(self._index.by_key, default=0)

    def item(self, rating_key: int) -> Item | None:
        """The artist, album or track with this rating key, if any."""
        return self._index.by_key.get(rating_key)

    def artist(self, rating_key: int) -> Artist:
        """The artist with this rating key (KeyError otherwise)."""
        item = self._index.by_key[rating_key]
        if not isinstance(item, Artist):
            raise KeyError(rating_key)
        return item

    def album(self, rating_key: int) -> Album:
        """The album with this rating key (KeyError otherwise)."""
        item = self._index.by_key[rating_key]
        if not isinstance(item, Album):
            raise KeyError(rating_key)
        return item

    def track(self, rating_key: int) -> Track:
        """The track with this rating key (KeyError otherwise)."""
        item = self._index.by_key[rating_key]
        if not isinstance(item, Track):
            raise KeyError(rating_key)
        return item

    def albums_of(self, artist_key: int) -> tuple[Album, ...]:
        """The artist's albums in library order."""
        return self._index.albums_by_artist.get(artist_key, ())

    def tracks_of_album(self, album_key: int) -> tuple[Track, ...]:
        """The album's tracks by track number."""
        return self._index.tracks_by_album.get(album_key, ())

    def tracks_of_artist(self, artist_key: int) -> tuple[Track, ...]:
        """All tracks of the artist's albums."""
        return self._index.tracks_by_artist.get(artist_key, ())

    def artist_named(self, name: str) -> Artist | None:
        """The artist whose title equals ``name`` case-insensitively."""
        return self._index.artists_by_name.get(name.casefold())
