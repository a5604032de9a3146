"""The shape of a daily mix: the order its chosen tracks play in.

Where AudioMuse-AI analysed a track (energy, tempo, key), the morning mix rises in intensity
(energy and tempo), the evening mix winds down, and the afternoon stays level; within that
curve, neighbours are kept close in tempo and key. Tracks without features keep their place
in the score order, and the featured ones fill the other places in the shaped order.

How: the featured tracks are ranked by intensity. The morning plays them from the calmest
up, the evening from the most intense down; the afternoon goes up and down in turn, in
``AFTERNOON_PHASES`` phases that each take an even spread of the intensities (ranks i, i+4,
i+8, …), so that it rises and falls around one level instead of drifting. Within a phase,
each next track is the one nearest to the last in tempo, key and energy among the next
``BEAM`` in the phase's direction: the curve keeps its direction, and neighbours are chosen
to sit well together. Pure functions, deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from playlister.windows import DAILY, Window

if TYPE_CHECKING:
    from collections.abc import Sequence

# Each next track is chosen among this many next in the curve's direction.
BEAM = 5
AFTERNOON_PHASES = 4
_PITCHES = {
    "C": 0, "B#": 0, "C#": 1, "DB": 1, "D": 2, "D#": 3, "EB": 3, "E": 4, "FB": 4, "F": 5,
    "E#": 5, "F#": 6, "GB": 6, "G": 7, "G#": 8, "AB": 8, "A": 9, "A#": 10, "BB": 10, "B": 11,
    "CB": 11,
}  # fmt: skip


@dataclass(frozen=True)
class Sound:
    """What AudioMuse says of one track; any part may be unknown."""

    energy: float | None = None
    tempo: float | None = None
    key: str = ""
    scale: str = ""

    @property
    def complete(self) -> bool:
        return self.energy is not None and self.tempo is not None

    @property
    def intensity(self) -> float:
        """Energy and tempo in one number, 0..1 (60 BPM and below = 0, 180 and above = 1)."""
        tempo = min(1.0, max(0.0, ((self.tempo or 120.0) - 60.0) / 120.0))
        return 0.5 * min(1.0, max(0.0, self.energy or 0.0)) + 0.5 * tempo


def camelot(key: str, scale: str) -> tuple[int, bool] | None:
    """A key on the Camelot wheel: (1..12, minor?); None when unknown."""
    pitch = _PITCHES.get(key.strip().upper())
    if pitch is None:
        return None
    minor = scale.strip().lower().startswith("min")
    # C major is 8B, A minor 8A; each fifth up is one step clockwise.
    root = (pitch + 3) % 12 if minor else pitch
    return (root * 7 % 12 + 7) % 12 + 1, minor


def key_distance(a: Sound, b: Sound) -> int:
    """Steps on the Camelot wheel (0 = same key, 1 = a neighbour or the relative key); 3 when
    either key is unknown (a middling guess)."""
    ka, kb = camelot(a.key, a.scale), camelot(b.key, b.scale)
    if ka is None or kb is None:
        return 3
    around = abs(ka[0] - kb[0])
    return min(around, 12 - around) + (ka[1] != kb[1])


def distance(a: Sound, b: Sound) -> float:
    """How jarring it is to go from ``a`` to ``b``: 10 BPM, 0.1 of energy and two thirds of
    a key step weigh about the same (a clash of keys is heard more than a small jump)."""
    tempo = abs((a.tempo or 0.0) - (b.tempo or 0.0)) / 10.0
    energy = abs((a.energy or 0.0) - (b.energy or 0.0)) * 10.0
    return tempo + 1.5 * key_distance(a, b) + energy


def _phase(ranked: list[int], sounds: Sequence[Sound], last: int | None) -> list[int]:
    """``ranked`` (in the phase's direction) played in that direction, each next track the
    nearest to the last among the next ``BEAM`` still to play."""
    left = list(ranked)
    ordered: list[int] = []
    while left:
        if last is None:
            nearest = left[0]
        else:
            here = sounds[last]
            nearest = min(left[:BEAM], key=lambda i: (distance(here, sounds[i]), i))
        left.remove(nearest)
        ordered.append(nearest)
        last = nearest
    return ordered


def shaped_order(sounds: Sequence[Sound], window: Window) -> list[int]:
    """The indexes of ``sounds`` (all complete) in the window's order."""
    by_intensity = sorted(range(len(sounds)), key=lambda i: (sounds[i].intensity, i))
    if window is Window.MORNING:
        phases = [by_intensity]
    elif window is Window.EVENING:
        phases = [by_intensity[::-1]]
    else:  # up and down in turn, each phase an even spread of intensities: level overall
        count = max(1, min(AFTERNOON_PHASES, len(sounds) // BEAM))
        phases = [by_intensity[n::count][:: 1 if n % 2 == 0 else -1] for n in range(count)]
    order: list[int] = []
    for ranked in phases:
        order += _phase(ranked, sounds, order[-1] if order else None)
    return order


def shape[T](items: Sequence[T], sounds: Sequence[Sound | None], window: Window) -> list[T]:
    """``items`` (in score order) reordered for ``window``; ``sounds[i]`` is item i's.

    Items without complete features keep their positions; only the daily windows are
    shaped, and only when at least two items have features.
    """
    if window not in DAILY:
        return list(items)
    featured = [i for i, s in enumerate(sounds) if s is not None and s.complete]
    if len(featured) < 2:
        return list(items)
    known = [s for s in sounds if s is not None and s.complete]
    order = shaped_order(known, window)
    result = list(items)
    for slot, index in zip(featured, order, strict=True):
        result[slot] = items[featured[index]]
    return result
