"""The shape of a daily mix, on seeded audio features (no I/O)."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest

from enrichment.fakes.audiomuse import KEYS, SCALES
from playlister.shape import Sound, camelot, key_distance, shape
from playlister.windows import DAILY, Window

SIZE = 50


def sounds(seed: int, count: int = SIZE) -> list[Sound]:
    rng = random.Random(seed)
    return [
        Sound(
            energy=rng.uniform(0.05, 0.95),
            tempo=rng.uniform(70, 170),
            key=rng.choice(KEYS),
            scale=rng.choice(SCALES),
        )
        for _ in range(count)
    ]


def slope(values: list[float]) -> float:
    """The least-squares trend per position."""
    return statistics.linear_regression(range(len(values)), values).slope


def roughness(order: list[Sound]) -> tuple[float, float]:
    pairs = list(itertools.pairwise(order))
    tempo = statistics.mean(abs((a.tempo or 0) - (b.tempo or 0)) for a, b in pairs)
    key = statistics.mean(key_distance(a, b) for a, b in pairs)
    return tempo, key


@pytest.mark.parametrize("seed", range(20))
def test_the_morning_rises_the_evening_winds_down_the_afternoon_stays_level(seed) -> None:
    found = sounds(seed)
    trends = {}
    for window in DAILY:
        order = shape(found, found, window)
        assert sorted(map(id, order)) == sorted(map(id, found))  # the same tracks
        trends[window] = slope([s.energy or 0 for s in order])
        tempo_trend = slope([s.tempo or 0 for s in order])
        if window is Window.MORNING:
            assert tempo_trend > 0
        elif window is Window.EVENING:
            assert tempo_trend < 0
    assert trends[Window.MORNING] > 0 > trends[Window.EVENING]
    level = abs(trends[Window.AFTERNOON])
    assert level < trends[Window.MORNING] / 2 and level < -trends[Window.EVENING] / 2


@pytest.mark.parametrize("seed", range(20))
def test_neighbours_are_closer_in_tempo_and_key_than_in_a_random_order(seed) -> None:
    found = sounds(seed)
    rng = random.Random(seed)
    shuffled = []
    for _ in range(30):
        order = list(found)
        rng.shuffle(order)
        shuffled.append(roughness(order))
    random_tempo = statistics.mean(t for t, _ in shuffled)
    random_key = statistics.mean(k for _, k in shuffled)
    for window in DAILY:
        tempo, key = roughness(shape(found, found, window))
        assert tempo < random_tempo * 0.85, window
        assert key < random_key * 0.85, window


def test_tracks_without_features_keep_their_place() -> None:
    found: list[Sound | None] = list(sounds(3, 20))
    for slot in (0, 7, 13):
        found[slot] = None
    found[5] = Sound(energy=0.5)  # no tempo: not shaped either
    items = list(range(20))
    order = shape(items, found, Window.MORNING)
    for slot in (0, 5, 7, 13):
        assert order[slot] == slot
    assert sorted(order) == items


def test_weekly_mixes_and_too_few_features_keep_the_score_order() -> None:
    found = sounds(4, 10)
    assert shape(list(range(10)), found, Window.DISCOVERY) == list(range(10))
    one: list[Sound | None] = [found[0]] + [None] * 9
    assert shape(list(range(10)), one, Window.MORNING) == list(range(10))


@pytest.mark.parametrize(
    ("key", "scale", "expected"),
    [("C", "major", (8, False)), ("A", "minor", (8, True)), ("G", "major", (9, False)),
     ("E", "minor", (9, True)), ("F#", "major", (2, False)), ("Bb", "minor", (3, True)),
     ("H", "major", None)],
)  # fmt: skip
def test_keys_on_the_camelot_wheel(key, scale, expected) -> None:
    assert camelot(key, scale) == expected


def test_key_distance() -> None:
    c, g, a_minor = Sound(key="C", scale="major"), Sound(key="G"), Sound(key="A", scale="minor")
    assert key_distance(c, c) == 0
    assert key_distance(c, g) == 1
    assert key_distance(c, a_minor) == 1  # the relative minor
    assert key_distance(c, Sound(key="F#", scale="major")) == 6
    assert key_distance(c, Sound()) == 3
