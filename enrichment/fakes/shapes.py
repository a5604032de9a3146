"""What real Plex libraries hold besides a tidy core, applied to a generated library.

Each shape is something a real server sent that an app built against a tidy fake got wrong:
tracks credited to several artists (``originalTitle="A feat. B"``), a compilation whose album
artist is "Various Artists", plays of tracks deleted since (history entries without a rating
key), Unicode titles, tracks without ``addedAt``, tracks with several media versions or parts,
and a second, hidden music section. The shapes draw from their own random stream, so the core
of a library (names, tags, keys) is the same with or without them.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from enrichment.fakes.models import Play, RemovedTrack
from enrichment.fakes.names import album_title, pick, title_sort, track_title
from enrichment.fakes.vocab import FIRST_NAMES, LAST_NAMES

if TYPE_CHECKING:
    from enrichment.fakes.models import Artist, Library, Track

VARIOUS_ARTISTS = "Various Artists"
# Separators real libraries put between credited artists (Plex keeps them in originalTitle).
CREDIT_SEPARATORS = ("/", "; ", " feat. ", " ft. ", " & ", ", ")
# Share of the history that belongs to tracks removed since: about half of them recent
# (an album played a lot, then deleted), so a 30-day window meets them too.
REMOVED_SHARE = 0.03
COMPILATION_MIN_ARTISTS = 8
HIDDEN_SECTION_TITLE = "Hörbücher"
UNICODE_TITLES = (
    "夜明けのスキャット",
    "Café Noir ☕",
    "Смысл жизни",
    "🌊 Tides",
    "Fête de la Lune",
    "Ólafur's Theme",
    "Naïve — Reprise",
    "Ελπίδα",
)
UNICODE_ARTIST = "坂本 美雨"
DAY = 86_400


def removed_play_count(total: int) -> int:
    """How many of ``total`` history entries go to removed tracks."""
    return int(total * REMOVED_SHARE)


def apply(library: Library, *, removed_plays: int, history_start: int) -> Library:
    """``library`` with every shape above but the hidden section (see :func:`hidden_section`).

    ``removed_plays`` history entries are added for removed tracks (the caller drew that many
    fewer plays for the library's own tracks, so the history keeps its requested size).
    """
    rng = random.Random(f"shapes:{library.seed}")
    artists = list(library.artists)
    tracks = list(library.tracks)
    _rename_for_unicode(library, artists, tracks)
    _compilation(rng, library, artists, tracks)
    _credits(rng, artists, tracks)
    _quirks(rng, tracks)
    removed, plays = _removed(rng, library, artists, removed_plays, history_start)
    return replace(
        library,
        artists=tuple(artists),
        tracks=tuple(tracks),
        plays=plays,
        removed_tracks=removed,
    )


def _rename(artist: Artist, title: str) -> Artist:
    return replace(artist, title=title, title_sort=title_sort(title))


def _retitle_files(library: Library, tracks: list[Track], artist: Artist) -> None:
    for i, track in enumerate(tracks):
        if track.artist_key == artist.rating_key:
            album = library.album(track.album_key)
            path = f"/music/{artist.title}/{album.title}/{track.index:02d} - {track.title}.flac"
            tracks[i] = replace(track, file=path)


def _rename_for_unicode(library: Library, artists: list[Artist], tracks: list[Track]) -> None:
    """One artist with a CJK name (the forced first names cover accents and "&")."""
    if len(artists) < COMPILATION_MIN_ARTISTS:
        return
    artists[3] = _rename(artists[3], UNICODE_ARTIST)
    _retitle_files(library, tracks, artists[3])


def _compilation(
    rng: random.Random, library: Library, artists: list[Artist], tracks: list[Track]
) -> None:
    """The last artist becomes "Various Artists": each of its tracks is credited to another
    artist of the library, the first to one whose own name holds an "&" (the forced second
    artist), which must not be split."""
    if len(artists) < COMPILATION_MIN_ARTISTS:
        return
    various = artists[-1] = _rename(artists[-1], VARIOUS_ARTISTS)
    _retitle_files(library, tracks, various)
    others = [a.title for a in artists[:-1]]
    first = True
    for i, track in enumerate(tracks):
        if track.artist_key != various.rating_key:
            continue
        credit = others[1] if first else pick(rng, others)
        tracks[i] = replace(track, original_title=credit)
        first = False


def _guest(rng: random.Random) -> str:
    """A featured guest: a name with a middle initial, which no library artist has."""
    initial = chr(ord("A") + int(rng.random() * 26))
    return f"{pick(rng, FIRST_NAMES)} {initial}. {pick(rng, LAST_NAMES)}"


def _credits(rng: random.Random, artists: list[Artist], tracks: list[Track]) -> None:
    """About 6 % of the other tracks are credited to their album artist and someone else:
    another artist of the library or a guest, joined by one of the separators real tags use
    (at least one of each, so a small library holds them all)."""
    position = {a.rating_key: n for n, a in enumerate(artists)}
    candidates = [i for i, t in enumerate(tracks) if not t.original_title]
    if len(artists) < 2:
        return
    share = max(len(CREDIT_SEPARATORS), len(candidates) * 6 // 100)
    chosen = rng.sample(candidates, min(share, len(candidates)))
    for n, i in enumerate(sorted(chosen)):
        track = tracks[i]
        mine = position[track.artist_key]
        own = artists[mine].title
        separator = CREDIT_SEPARATORS[n % len(CREDIT_SEPARATORS)]
        if rng.random() < 0.7:
            other_index = int(rng.random() * (len(artists) - 1))  # any artist but this one
            other = artists[other_index + (other_index >= mine)].title
        else:
            other = _guest(rng)
        credit = f"{own}{separator}{other}" if rng.random() < 0.8 else f"{other}{separator}{own}"
        tracks[i] = replace(track, original_title=credit)


def _quirks(rng: random.Random, tracks: list[Track]) -> None:
    """Unicode titles, no ``addedAt``, several media versions or parts, on a few tracks."""
    for i, track in enumerate(tracks):
        roll = rng.random()
        if roll < 0.02:
            tracks[i] = replace(track, title=pick(rng, UNICODE_TITLES))
        elif roll < 0.04:
            tracks[i] = replace(track, added_at=None)
        elif roll < 0.07:
            tracks[i] = replace(track, media=(1, 1))
        elif roll < 0.08:
            tracks[i] = replace(track, media=(2,))


def _removed(
    rng: random.Random,
    library: Library,
    artists: list[Artist],
    count: int,
    history_start: int,
) -> tuple[tuple[RemovedTrack, ...], tuple[Play, ...]]:
    """Removed tracks (an album or two of artists still in the library) and ``count`` plays
    of them, merged into the history in time order with the history ids renumbered."""
    if count <= 0 or not artists:
        return (), library.plays
    first_key = library.max_rating_key + 1
    removed: list[RemovedTrack] = []
    artist, album = "", ""
    for n in range(max(1, count // 3)):
        if n % 8 == 0:
            artist, album = pick(rng, artists).title, album_title(rng)
        duration = 95_000 + int(rng.random() * 325_000)
        removed.append(RemovedTrack(first_key + n, track_title(rng), album, artist, duration))
    now = int(library.now.timestamp())
    recent = max(history_start, now - 30 * DAY)
    extra = []
    for n in range(count):
        low = recent if n % 2 == 0 else history_start
        viewed = low + int(rng.random() * max(1, now - low))
        track = pick(rng, removed)
        account = 1 if rng.random() < 0.9 else 2
        extra.append((viewed, track.rating_key, account, 1 + int(rng.random() * 3)))
    rows = [(int(p.viewed_at.timestamp()), p) for p in library.plays]
    rows.extend(
        (viewed, Play(0, key, datetime.fromtimestamp(viewed, UTC), account, device))
        for viewed, key, account, device in extra
    )
    rows.sort(key=lambda row: row[0])  # stable: the library's own order holds among equals
    plays = tuple(replace(p, history_id=n) for n, (_, p) in enumerate(rows, start=1))
    return tuple(removed), plays
