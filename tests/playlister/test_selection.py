"""The selection rules on generated candidate sets (no I/O)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from playlister import scoring
from playlister.selection import Candidate, Pick, select


def library(seed: int, *, tracks: int, artists: int, genres: int) -> list[Candidate]:
    rng = random.Random(seed)
    return [
        Candidate(
            rating_key=str(i),
            artist=f"artist-{rng.randrange(artists)}",
            score=rng.random(),
            genre=f"genre-{rng.randrange(genres)}",
            duration_ms=200_000,
        )
        for i in range(tracks)
    ]


@pytest.mark.parametrize("seed", range(20))
def test_limits_hold_whenever_the_library_allows(seed):
    candidates = library(seed, tracks=400, artists=60, genres=6)
    chosen = select(candidates, target=50, rng=random.Random(seed)).tracks
    assert len(chosen) == 50
    assert max(Counter(c.artist for c in chosen).values()) <= 2
    assert max(Counter(c.genre for c in chosen).values()) <= 20  # 40 % of 50
    assert len({c.rating_key for c in chosen}) == 50


def test_the_same_seed_gives_the_same_playlist_and_another_seed_another():
    candidates = library(1, tracks=300, artists=80, genres=8)
    first = [c.rating_key for c in select(candidates, target=50, rng=random.Random(7)).tracks]
    again = [c.rating_key for c in select(candidates, target=50, rng=random.Random(7)).tracks]
    other = [c.rating_key for c in select(candidates, target=50, rng=random.Random(8)).tracks]
    assert first == again
    assert first != other


def test_exploration_takes_about_15_percent_beyond_the_top_scores():
    candidates = library(2, tracks=500, artists=200, genres=10)
    selection = select(candidates, target=40, rng=random.Random(3))
    assert selection.explored == 6
    top = sorted(candidates, key=lambda c: -c.score)[:40]
    assert len({c.rating_key for c in selection.tracks} - {c.rating_key for c in top}) >= 5


def test_limits_relax_genre_first_then_artist_only_as_far_as_needed():
    # one genre only: 40 % cannot hold, but two per artist can
    one_genre = [Candidate(str(i), f"a{i // 2}", 1 - i / 1000, genre="rock") for i in range(200)]
    selection = select(one_genre, target=50, rng=random.Random(1))
    assert len(selection.tracks) == 50
    assert selection.max_per_artist == 2
    assert max(Counter(c.artist for c in selection.tracks).values()) <= 2
    # five artists, 10 tracks each: the artist limit has to give
    few_artists = [
        Candidate(str(i), f"a{i % 5}", 1 - i / 1000, genre=f"g{i % 5}") for i in range(50)
    ]
    relaxed = select(few_artists, target=30, rng=random.Random(1))
    assert len(relaxed.tracks) == 30
    assert relaxed.max_per_artist == 6
    assert relaxed.relaxed


def test_a_small_library_gives_all_it_has():
    candidates = library(3, tracks=12, artists=12, genres=3)
    assert len(select(candidates, target=50, rng=random.Random(0)).tracks) == 12


def test_daily_score_formula():
    # a play today, rated 10, played 25+ times: the maximum
    assert scoring.daily_score(days_since=0, user_rating=10, plays=40) == pytest.approx(1.0)
    # a week ago halves recency
    assert scoring.recency(7) == pytest.approx(0.5)
    assert scoring.daily_score(days_since=7, user_rating=None, plays=0) == pytest.approx(
        0.7 * 0.5 + 0.3 * (0.6 * 0.5)
    )


def test_relaxed_is_reported_only_when_a_limit_had_to_give():
    # A genre playlist asks for no genre limit from the start: nothing is relaxed.
    one_genre = [Candidate(str(i), f"a{i}", 1 - i / 1000, genre="rock") for i in range(200)]
    genre_playlist = select(one_genre, target=50, rng=random.Random(1), max_genre_share=1.0)
    assert len(genre_playlist.tracks) == 50 and not genre_playlist.relaxed
    assert not any(w.relaxed for w in genre_playlist.why.values())
    # Plenty of everything: nothing relaxed either.
    assert not select(library(2, tracks=400, artists=80, genres=8), target=50,
                      rng=random.Random(2)).relaxed  # fmt: skip


def test_each_track_says_how_it_was_picked_and_which_limit_gave_for_it():
    candidates = library(5, tracks=300, artists=100, genres=8)
    selection = select(candidates, target=40, rng=random.Random(5))
    picks = Counter(selection.why[c.rating_key].pick for c in selection.tracks)
    assert picks[Pick.EXPLORATION] == selection.explored == 6
    assert picks[Pick.TOP] + picks[Pick.FILL] == 34
    # five artists: the tracks beyond two per artist name the artist limit they needed
    few_artists = [Candidate(str(i), f"a{i % 5}", 1 - i / 1000, genre=f"g{i}") for i in range(50)]
    relaxed = select(few_artists, target=30, rng=random.Random(1))
    reasons = [relaxed.why[c.rating_key].relaxed for c in relaxed.tracks]
    assert sum(1 for r in reasons if r == "artist limit raised to 6") == 30 - 2 * 5
    assert sum(1 for r in reasons if not r) == 10
