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
    """A track; ``genres`` are the file's embedded genre tags (often none).

    ``artist_key`` is the album artist (Plex's grandparent); ``original_title`` the track's
    own artist credit when it differs ("A feat. B", a compilation's track artist), as Plex
    puts it in ``originalTitle``. ``media`` holds the number of parts of each media version
    (``(1,)``: one file; ``(1, 1)``: two versions; ``(2,)``: one version in two files).
    """

    rating_key: int
    album_key: int
    artist_key: int
    title: str
    index: int
    disc: int
    duration_ms: int
    genres: tuple[str, ...]
    moods: tuple[str, ...]
    added_at: datetime | None
    updated_at: datetime
    user_rating: float | None
    last_rated_at: datetime | None
    view_count: int
    last_viewed_at: datetime | None
    guid: str
    file: str
    original_title: str = ""
    media: tuple[int, ...] = (1,)


@dataclass(frozen=True, slots=True)
class RemovedTrack:
    """A track deleted from the library whose plays are still in the history: a real server
    lists those plays without ``ratingKey`` or ``key``. ``rating_key`` is the key it had."""

    rating_key: int
    title: str
    album_title: str
    artist_title: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class Play:
    """One play-history entry (Plex's /status/sessions/history/all row); ``track_key`` may
    name a :class:`RemovedTrack`."""

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
    removed_by_key: dict[int, RemovedTrack]


@dataclass(frozen=True, slots=True)
class Library:
    """An immutable library: artists, albums, tracks (in library order) and plays (oldest first).

    One ``Library`` is one music section of a server; ``extra_sections`` are the server's
    other music sections (a hidden one, say), each a ``Library`` of its own with keys above
    this one's.
    """

    seed: int
    now: datetime
    artists: tuple[Artist, ...]
    albums: tuple[Album, ...]
    tracks: tuple[Track, ...]
    plays: tuple[Play, ...]
    section_id: int = 1
    section_title: str = "Music"
    section_hidden: bool = False
    removed_tracks: tuple[RemovedTrack, ...] = ()
    extra_sections: tuple[Library, ...] = ()
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
            removed_by_key={r.rating_key: r for r in self.removed_tracks},
        )
        object.__setattr__(self, "_index", index)

    @property
    def by_key(self) -> Mapping[int, Item]:
        """Every artist, album and track by rating key."""
        return self._index.by_key

    @property
    def max_rating_key(self) -> int:
        """The highest rating key ever used, removed tracks and other sections included (new
        server-side objects must go above it: Plex never reuses a key)."""
        return max(
            (
                *self._index.by_key,
                *self._index.removed_by_key,
                *(s.max_rating_key for s in self.extra_sections),
            ),
            default=0,
        )

    @property
    def sections(self) -> tuple[Library, ...]:
        """This section and the server's other music sections."""
        return (self, *self.extra_sections)

    def removed(self, rating_key: int) -> RemovedTrack | None:
        """The removed track that had this rating key, if any."""
        return self._index.removed_by_key.get(rating_key)

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
