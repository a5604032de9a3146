"""A seeded, immutable music library with play history, the data behind every fake.

``generate_library`` is deterministic for a seed and a ``now``: the same arguments give the
same library, rating keys, tags and history, so tests and benchmarks can assert exact values.
"""

from __future__ import annotations

import bisect
import itertools
import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from enrichment.fakes import shapes
from enrichment.fakes.duplicates import add_duplicate_names
from enrichment.fakes.models import Album, Artist, Item, Library, Play, Track
from enrichment.fakes.names import album_title, artist_name, pick, title_sort, track_title
from enrichment.fakes.vocab import FAMILIES, GENERIC_MOODS

if TYPE_CHECKING:
    from enrichment.fakes.vocab import GenreFamily

__all__ = ["Album", "Artist", "Item", "Library", "Play", "Track", "generate_library"]

DAY = 86_400
YEAR = 365 * DAY

# Relative weight of a play starting in each UTC hour: busy commute and evening, quiet night.
HOUR_WEIGHTS: tuple[float, ...] = (
    1.0, 0.5, 0.3, 0.2, 0.2, 0.4, 1.5, 4.0, 6.0, 5.0, 3.0, 3.0,
    3.5, 3.0, 3.0, 3.0, 3.5, 5.0, 7.0, 8.0, 7.0, 5.0, 3.0, 2.0,
)  # fmt: skip
_HOUR_CUM = tuple(itertools.accumulate(HOUR_WEIGHTS))
_FAMILY_CUM = tuple(itertools.accumulate(f.weight for f in FAMILIES))


def _ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _pick_family(rng: random.Random) -> GenreFamily:
    return FAMILIES[bisect.bisect_right(_FAMILY_CUM, rng.random() * _FAMILY_CUM[-1])]


def _artist_tags(
    rng: random.Random,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    family = _pick_family(rng)
    count = rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0]
    genres = rng.sample(family.genres, min(count, len(family.genres)))
    if count > 1 and rng.random() < 0.2:
        genres[-1] = rng.choice(_pick_family(rng).genres)  # a cross-over artist
    styles = rng.sample(family.styles, rng.choice((0, 1, 1, 2, 2, 3)))
    moods = rng.sample(family.moods + GENERIC_MOODS, rng.randint(1, 4))
    return tuple(dict.fromkeys(genres)), tuple(styles), tuple(moods)


def _few(rng: random.Random, values: tuple[str, ...]) -> tuple[str, ...]:
    """Zero, one or two distinct elements of ``values``."""
    size, draw = len(values), rng.random()
    if size == 0 or draw < 1 / 3:
        return ()
    first = int(rng.random() * size)
    if draw < 2 / 3 or size == 1:
        return (values[first],)
    return (values[first], values[(first + 1 + int(rng.random() * (size - 1))) % size])


_PLAYED_RATINGS = (10.0, 8.0, 8.0, 6.0, 9.0, 7.0)
_UNPLAYED_RATINGS = (2.0, 4.0, 6.0, 5.0, 3.0, 8.0)


def _rating(rng: random.Random, played: bool) -> float | None:
    if rng.random() >= (0.45 if played else 0.10):
        return None
    # Whole stars dominate; half stars (odd values) are rarer, as in real libraries.
    return pick(rng, _PLAYED_RATINGS if played else _UNPLAYED_RATINGS)


def _guid(rng: random.Random, kind: str) -> str:
    return f"plex://{kind}/{rng.getrandbits(96):024x}"


@dataclass(slots=True)
class _ArtistDraft:
    key: int
    title: str
    added: int
    weight: float
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    moods: tuple[str, ...]
    guid: str
    mbid: str
    plays: int = 0
    last_play: int = 0


@dataclass(slots=True)
class _AlbumDraft:
    key: int
    artist: _ArtistDraft
    title: str
    added: int
    weight: float
    year: int
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    moods: tuple[str, ...]
    guid: str
    tracks: int = 0
    plays: int = 0
    last_play: int = 0


@dataclass(slots=True)
class _TrackDraft:
    key: int
    album: _AlbumDraft
    title: str
    index: int
    weight: float
    duration: int
    genres: tuple[str, ...]
    moods: tuple[str, ...]
    plays: int = 0
    last_play: int = 0


def generate_library(
    *,
    artists: int,
    seed: int,
    now: datetime,
    years_of_history: int = 3,
    plays: int | None = None,
    albums_per_artist: tuple[int, int] = (1, 4),
    tracks_per_album: tuple[int, int] = (6, 14),
    first_rating_key: int = 1001,
    section_id: int = 1,
    real_shapes: bool = True,
    hidden_section: bool = True,
) -> Library:
    """Generate a deterministic library of ``artists`` artists.

    ``now`` must be timezone-aware; all timestamps are aware UTC, whole seconds, never after
    ``now``. ``plays`` is the number of history entries (default: half the track count),
    spread over ``years_of_history`` years at realistic hours and skewed towards favourite
    artists; view counts and last-viewed dates follow from the plays. Rating keys are
    consecutive ints from ``first_rating_key``: artist, its albums, each album's tracks.

    ``real_shapes`` adds what real servers send (see :mod:`enrichment.fakes.shapes`): a
    compilation, multi-artist credits, plays of removed tracks (a share of ``plays``), Unicode
    titles, missing attributes, several media per track; ``hidden_section`` a small hidden
    second music section (``extra_sections``).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if artists < 0 or years_of_history < 1:
        raise ValueError("artists must be >= 0 and years_of_history >= 1")
    rng = random.Random(seed)
    now_ts = int(now.timestamp())
    history_start = now_ts - years_of_history * YEAR
    library_start = history_start - 2 * YEAR
    keys = itertools.count(first_rating_key)
    used_names: set[str] = set()
    artist_drafts: list[_ArtistDraft] = []
    album_drafts: list[_AlbumDraft] = []
    track_drafts: list[_TrackDraft] = []

    for i in range(artists):
        genres, styles, moods = _artist_tags(rng)
        key, name = next(keys), artist_name(rng, i, used_names)
        added = rng.randint(library_start, now_ts - 2 * DAY)
        weight = 0.0 if rng.random() < 0.25 else rng.paretovariate(1.5)
        guid, mbid = _guid(rng, "artist"), str(uuid.UUID(int=rng.getrandbits(128), version=4))
        artist = _ArtistDraft(key, name, added, weight, genres, styles, moods, guid, mbid)
        artist_drafts.append(artist)
        for n in range(rng.randint(*albums_per_artist)):
            album = _AlbumDraft(
                key=next(keys),
                artist=artist,
                title=album_title(rng),
                added=added if n == 0 else rng.randint(added, now_ts - DAY),
                weight=rng.uniform(0.2, 1.5),
                year=rng.randint(1965, now.year),
                genres=tuple(rng.sample(genres, rng.randint(1, len(genres)))),
                styles=tuple(rng.sample(styles, rng.randint(0, len(styles)))),
                moods=tuple(rng.sample(moods, rng.randint(0, len(moods)))),
                guid=_guid(rng, "album"),
            )
            album_drafts.append(album)
            album.tracks = rng.randint(*tracks_per_album)
            for index in range(1, album.tracks + 1):
                # Plain rng.random() arithmetic: randint/sample dominate at 100k tracks.
                weight = rng.random()
                track_drafts.append(
                    _TrackDraft(
                        next(keys),
                        album,
                        track_title(rng),
                        index,
                        0.0 if weight < 0.15 else (weight - 0.15) / 0.85,
                        95_000 + int(rng.random() * 325_000),
                        album.genres[:1] if rng.random() < 0.75 else (),
                        _few(rng, moods),
                    )
                )

    add_duplicate_names(seed, artist_drafts, album_drafts)
    total = len(track_drafts) // 2 if plays is None else plays
    removed = shapes.removed_play_count(total) if real_shapes and track_drafts else 0
    play_rows = _draw_plays(rng, track_drafts, total - removed, history_start, now_ts)
    library = _assemble(
        rng, seed, now, section_id, artist_drafts, album_drafts, track_drafts, play_rows
    )
    if real_shapes:
        library = shapes.apply(library, removed_plays=removed, history_start=history_start)
    if hidden_section:
        library = replace(library, extra_sections=(_hidden_section(library),))
    return library


def _hidden_section(library: Library) -> Library:
    """A small second music section, hidden, with a Unicode title and keys above every key
    of ``library`` (a person's audiobooks, say)."""
    extra = generate_library(
        artists=4,
        seed=library.seed * 31 + 7,
        now=library.now,
        years_of_history=1,
        plays=24,
        albums_per_artist=(1, 2),
        tracks_per_album=(6, 10),
        first_rating_key=library.max_rating_key + 1,
        section_id=library.section_id + 1,
        real_shapes=False,
        hidden_section=False,
    )
    # History ids are the server's, not the section's: continue after the main section's.
    offset = max((p.history_id for p in library.plays), default=0)
    plays = tuple(replace(p, history_id=p.history_id + offset) for p in extra.plays)
    return replace(
        extra, plays=plays, section_title=shapes.HIDDEN_SECTION_TITLE, section_hidden=True
    )


def _draw_plays(
    rng: random.Random,
    tracks: list[_TrackDraft],
    count: int,
    history_start: int,
    now_ts: int,
) -> list[tuple[int, int, int, int]]:
    """(viewed_at, track index, account, device) rows, oldest first; updates play counters."""
    if not tracks or count <= 0:
        return []
    weights = [t.weight * t.album.weight * t.album.artist.weight for t in tracks]
    if not any(weights):
        weights = [1.0] * len(tracks)
    picks = rng.choices(
        range(len(tracks)), cum_weights=list(itertools.accumulate(weights)), k=count
    )
    hour_top = _HOUR_CUM[-1]
    rows: list[tuple[int, int, int, int]] = []
    for idx in picks:
        low = max(history_start, tracks[idx].album.added + 60)
        moment = low + int(rng.random() * max(1, now_ts - low))
        hour = bisect.bisect_right(_HOUR_CUM, rng.random() * hour_top)
        viewed = moment - moment % DAY + hour * 3600 + int(rng.random() * 3600)
        if viewed > now_ts:
            viewed -= DAY
        if viewed < low:
            viewed = moment  # the track arrived that very day: keep the plain draw
        account = 1 if rng.random() < 0.9 else 2
        rows.append((viewed, idx, account, 1 + int(rng.random() * 3)))
    rows.sort()
    for viewed, idx, _, _ in rows:
        track = tracks[idx]
        # Rows are sorted oldest first, so the last assignment is the latest play.
        for node in (track, track.album, track.album.artist):
            node.plays += 1
            node.last_play = viewed
    return rows


def _assemble(
    rng: random.Random,
    seed: int,
    now: datetime,
    section_id: int,
    artist_drafts: list[_ArtistDraft],
    album_drafts: list[_AlbumDraft],
    track_drafts: list[_TrackDraft],
    play_rows: list[tuple[int, int, int, int]],
) -> Library:
    now_ts = int(now.timestamp())
    stamps: dict[int, datetime] = {}

    def ts(value: int) -> datetime:
        # Tracks share their album's timestamps; caching keeps 100k tracks cheap.
        cached = stamps.get(value)
        if cached is None:
            cached = stamps[value] = _ts(value)
        return cached

    def rated(added: int, played: bool) -> tuple[float | None, datetime | None]:
        value = _rating(rng, played)
        if value is None:
            return None, None
        return value, ts(added + int(rng.random() * (now_ts - added)))

    def last(value: int) -> datetime | None:
        return ts(value) if value else None

    artists = []
    for a in artist_drafts:
        rating, rated_at = rated(a.added, a.plays > 0)
        artists.append(
            Artist(
                a.key, a.title, title_sort(a.title), a.genres, a.styles, a.moods, ts(a.added),
                ts(rng.randint(a.added, now_ts)), rating, rated_at, a.plays, last(a.last_play),
                a.guid, a.mbid,
            )
        )  # fmt: skip
    albums = []
    for b in album_drafts:
        rating, rated_at = rated(b.added, b.plays > 0)
        albums.append(
            Album(
                b.key, b.artist.key, b.title, b.year, b.genres, b.styles, b.moods, ts(b.added),
                ts(rng.randint(b.added, now_ts)), rating, rated_at, b.plays, last(b.last_play),
                b.tracks, b.guid,
            )
        )  # fmt: skip
    tracks = []
    for t in track_drafts:
        album = t.album
        rating, rated_at = rated(album.added, t.plays > 0)
        added = ts(album.added)
        path = f"/music/{album.artist.title}/{album.title}/{t.index:02d} - {t.title}.flac"
        tracks.append(
            Track(
                t.key, album.key, album.artist.key, t.title, t.index, 1, t.duration, t.genres,
                t.moods, added, added, rating, rated_at, t.plays, last(t.last_play),
                f"plex://track/{t.key:024x}", path,
            )
        )  # fmt: skip
    plays = tuple(
        Play(history_id, track_drafts[idx].key, ts(viewed_at), account, device)
        for history_id, (viewed_at, idx, account, device) in enumerate(play_rows, start=1)
    )
    return Library(
        seed=seed,
        now=now.astimezone(UTC),
        artists=tuple(artists),
        albums=tuple(albums),
        tracks=tuple(tracks),
        plays=plays,
        section_id=section_id,
    )
