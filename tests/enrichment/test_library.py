"""The seeded library generator: determinism, shape, realism and speed."""

from __future__ import annotations

import time
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from enrichment.fakes import Album, Artist, Library, Track, generate_library
from enrichment.fakes.shapes import UNICODE_ARTIST
from enrichment.fakes.vocab import ALL_GENRES, ALL_MOODS, ALL_STYLES
from enrichment.names import normalize_name

from .conftest import NOW


def test_same_seed_same_library() -> None:
    first = generate_library(artists=20, seed=3, now=NOW)
    second = generate_library(artists=20, seed=3, now=NOW)
    other = generate_library(artists=20, seed=4, now=NOW)
    assert first == second
    assert first.artists != other.artists


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        generate_library(artists=1, seed=1, now=datetime(2026, 1, 1))


def test_structure_and_rating_keys(library: Library) -> None:
    items: list[Artist | Album | Track] = [*library.artists, *library.albums, *library.tracks]
    keys = [i.rating_key for i in items]
    assert all(isinstance(k, int) for k in keys)
    assert len(set(keys)) == len(keys)
    # Removed tracks and the hidden section took keys too: new objects must go above all.
    hidden = library.extra_sections[0]
    every = [*keys, *(r.rating_key for r in library.removed_tracks), hidden.max_rating_key]
    assert library.max_rating_key == max(every)
    assert min(i.rating_key for i in hidden.tracks) > max(keys)
    for artist in library.artists:
        assert 1 <= len(artist.genres) <= 4
        assert set(artist.genres) <= set(ALL_GENRES)
        assert set(artist.styles) <= set(ALL_STYLES)
        assert set(artist.moods) <= set(ALL_MOODS)
        albums = library.albums_of(artist.rating_key)
        assert 1 <= len(albums) <= 4
        for album in albums:
            tracks = library.tracks_of_album(album.rating_key)
            assert 6 <= len(tracks) <= 14
            assert album.leaf_count == len(tracks)
            assert album.genres and set(album.genres) <= set(artist.genres)
            assert [t.index for t in tracks] == list(range(1, len(tracks) + 1))
    assert isinstance(library.item(library.tracks[0].rating_key), Track)
    assert isinstance(library.item(library.albums[0].rating_key), Album)
    assert isinstance(library.item(library.artists[0].rating_key), Artist)


def test_names_include_tricky_ones(library: Library) -> None:
    names = [a.title for a in library.artists]
    assert any(not n.isascii() for n in names)
    assert any("&" in n for n in names)
    the = next(a for a in library.artists if a.title.startswith("The "))
    assert the.title_sort == the.title.removeprefix("The ")
    assert library.artist_named(names[0].upper()) == library.artists[0]


@pytest.mark.parametrize(("artists", "seed"), [(12, 1), (30, 11), (300, 42)])
def test_every_library_holds_duplicate_names_of_every_kind(artists: int, seed: int) -> None:
    lib = generate_library(artists=artists, seed=seed, now=NOW)
    titles = [a.title for a in lib.artists]
    by_key: dict[str, list[str]] = {}
    for title in titles:
        by_key.setdefault(normalize_name(title), []).append(title)
    same = [group for group in by_key.values() if len(group) > 1]
    assert any(a == b for a, b in same)  # spelled alike
    assert any(a != b and a.casefold() == b.casefold() for a, b in same)  # another case
    assert any(  # another Unicode form of the same letters
        unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b) and a != b
        for a, b in same
    )
    assert any(("&" in a) != ("&" in b) for a, b in same)  # "&" and "and"
    pairs = Counter(
        (normalize_name(lib.artist(b.artist_key).title), normalize_name(b.title))
        for b in lib.albums
    )
    # The same (artist, album) twice: on one artist, and across two artists of one name.
    repeated = [pair for pair, n in pairs.items() if n > 1]
    within = [
        pair
        for pair in repeated
        if any(
            Counter(normalize_name(b.title) for b in lib.albums_of(a.rating_key))[pair[1]] > 1
            for a in lib.artists
            if normalize_name(a.title) == pair[0]
        )
    ]
    assert len(repeated) > len(within) >= 1


def test_ratings_use_the_plex_scale_and_most_items_are_unrated(library: Library) -> None:
    ratings = [t.user_rating for t in library.tracks]
    rated = [r for r in ratings if r is not None]
    assert rated
    assert all(0 <= r <= 10 for r in rated)
    assert len(rated) < len(ratings) / 2
    for track in library.tracks:
        assert (track.user_rating is None) == (track.last_rated_at is None)


def test_timestamps_are_aware_utc_and_not_in_the_future(library: Library) -> None:
    items: list[Artist | Album | Track] = [*library.artists, *library.albums, *library.tracks]
    for item in items:
        for stamp in (item.added_at, item.updated_at, item.last_viewed_at, item.last_rated_at):
            if stamp is not None:
                assert stamp.tzinfo is not None
                assert stamp.utcoffset() == timedelta(0)
                assert stamp <= NOW


def test_play_history_is_consistent_with_view_counts(library: Library) -> None:
    plays = library.plays
    assert len(plays) == len(library.tracks) // 2
    assert [p.viewed_at for p in plays] == sorted(p.viewed_at for p in plays)
    assert [p.history_id for p in plays] == list(range(1, len(plays) + 1))
    assert plays[0].viewed_at >= NOW - timedelta(days=3 * 365)
    per_track = Counter(p.track_key for p in plays)
    removed = {r.rating_key for r in library.removed_tracks}
    assert all(p.track_key in removed for p in plays if library.item(p.track_key) is None)
    for track in library.tracks:
        assert track.view_count == per_track[track.rating_key]
        if track.view_count:
            last = max(p.viewed_at for p in plays if p.track_key == track.rating_key)
            assert track.last_viewed_at == last
            assert track.added_at is None or last >= track.added_at
    for artist in library.artists:
        tracks = library.tracks_of_artist(artist.rating_key)
        assert artist.view_count == sum(t.view_count for t in tracks)


def test_plays_happen_at_realistic_hours() -> None:
    lib = generate_library(artists=60, seed=8, now=NOW, plays=6000)
    hours = Counter(p.viewed_at.hour for p in lib.plays)
    evening = sum(hours[h] for h in range(17, 22))
    night = sum(hours[h] for h in range(1, 6))
    morning = sum(hours[h] for h in range(7, 10))
    assert evening > 5 * night
    assert morning > 3 * night
    assert Counter(p.account_id for p in lib.plays).most_common(1)[0][0] == 1


def test_plays_can_be_bounded() -> None:
    lib = generate_library(artists=10, seed=2, now=NOW, plays=17)
    assert len(lib.plays) == 17
    assert generate_library(artists=10, seed=2, now=NOW, plays=0).plays == ()


def test_large_library_is_fast() -> None:
    started = time.perf_counter()
    # The benchmarks' largest size: a crowded name space once made a shape loop forever.
    lib = generate_library(
        artists=10_000, seed=1, now=datetime(2026, 6, 1, tzinfo=UTC), plays=50_000
    )
    elapsed = time.perf_counter() - started

    assert len(lib.tracks) >= 240_000
    assert len(lib.plays) == 50_000
    # About 5 s on a slow CI core; the bound only catches an accidental quadratic.
    assert elapsed < 30


def test_real_shapes_are_in_every_library(library: Library) -> None:
    """What real servers send: a compilation, multi-artist credits, removed tracks in the
    history, Unicode, missing addedAt, several media per track, a hidden second section."""
    various = library.artist_named("Various Artists")
    assert various is not None
    compilation = library.tracks_of_artist(various.rating_key)
    others = {a.title for a in library.artists} - {"Various Artists"}
    assert compilation and all(t.original_title in others for t in compilation)
    assert " & " in compilation[0].original_title  # a name that must not be split

    credited = [
        t for t in library.tracks if t.original_title and t.artist_key != various.rating_key
    ]
    for separator in ("/", "; ", " feat. ", " ft. ", " & ", ", "):
        assert any(separator in t.original_title for t in credited), separator
    assert all(library.artist(t.artist_key).title in t.original_title for t in credited)

    removed = [p for p in library.plays if library.item(p.track_key) is None]
    assert 0.02 * len(library.plays) <= len(removed) <= 0.04 * len(library.plays)
    assert any(p.viewed_at >= NOW - timedelta(days=30) for p in removed)

    assert any(not t.title.isascii() for t in library.tracks)
    assert library.artist_named(UNICODE_ARTIST) is not None
    assert any(t.added_at is None for t in library.tracks)
    assert any(t.media == (1, 1) for t in library.tracks)
    assert any(t.media == (2,) for t in library.tracks)

    (hidden,) = library.extra_sections
    assert hidden.section_hidden and not library.section_hidden
    assert hidden.section_id == library.section_id + 1 and not hidden.section_title.isascii()
    assert hidden.plays and not {p.history_id for p in hidden.plays} & {
        p.history_id for p in library.plays
    }


def test_the_shapes_leave_the_core_alone() -> None:
    plain = generate_library(artists=20, seed=3, now=NOW, real_shapes=False, hidden_section=False)
    shaped = generate_library(artists=20, seed=3, now=NOW)
    assert not plain.extra_sections and not plain.removed_tracks
    assert not any(t.original_title for t in plain.tracks)
    assert [a.rating_key for a in plain.artists] == [a.rating_key for a in shaped.artists]
    assert [a.genres for a in plain.artists] == [a.genres for a in shaped.artists]
    assert [t.rating_key for t in plain.tracks] == [t.rating_key for t in shaped.tracks]
    assert len(plain.plays) == len(shaped.plays)
