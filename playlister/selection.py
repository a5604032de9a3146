"""Choosing a playlist's tracks from scored candidates.

Limits: at most ``max_per_artist`` tracks per artist and at most ``max_genre_share`` of the
playlist from one genre. When the candidates cannot fill the playlist under them, the limits
are relaxed one step at a time — the genre share first, then the artist limit — and only as
far as needed. ``exploration`` of the playlist is drawn at random from the less obvious
candidates so the mix does not freeze. All randomness comes from ``rng``.

Every chosen track says why it is there (``Selection.why``): how it was picked (the best
scores, an exploration pick, or filling up after exploration found too few) and, when it
would not have fit under the limits asked for, which limit was relaxed for it.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from playlister.plex import TrackInfo


class Pool(StrEnum):
    """Where a candidate came from."""

    HISTORY = "history"  # played in the window lately
    FALLBACK = "fallback"  # the best-rated / most-played tracks, when history is thin
    LIBRARY = "library"  # the whole library (discovery, custom playlists)
    THEN = "then"  # loved two to five years ago (throwback)


class Pick(StrEnum):
    TOP = "top"  # among the best scores that fit
    EXPLORATION = "exploration"  # a random pick among the rest
    FILL = "fill"  # the best remaining, when exploration found too few


@dataclass(frozen=True)
class Candidate:
    rating_key: str
    artist: str  # normalised: the artist limit counts it
    score: float
    genre: str = ""  # the primary genre; "" = unknown (not limited)
    title: str = ""
    duration_ms: int = 0
    # What Plex said of the track (shown and stored with a generation); None in pure tests.
    track: TrackInfo | None = None
    genres: tuple[str, ...] = ()
    # The score's parts, which add up to it ("recency": 0.61, "quality": 0.21).
    parts: Mapping[str, float] = field(default_factory=dict)
    pool: Pool = Pool.LIBRARY
    # How near its sound is to the window's profile (0..1), when AudioMuse analysed it: the
    # parts were multiplied by 0.75 + 0.25 · fit.
    fit: float | None = None


@dataclass(frozen=True)
class Why:
    """How a chosen track was picked, and the limit relaxed for it ("" when none was)."""

    pick: Pick
    relaxed: str = ""


@dataclass
class Selection:
    tracks: list[Candidate] = field(default_factory=list)
    explored: int = 0
    max_per_artist: int = 2
    max_genre_share: float = 0.4
    why: dict[str, Why] = field(default_factory=dict)

    @property
    def relaxed(self) -> bool:
        """True only when a chosen track needed a limit relaxed to get in."""
        return any(w.relaxed for w in self.why.values())


class _Limits:
    def __init__(self, target: int, per_artist: int, genre_share: float) -> None:
        self.per_artist = per_artist
        self.genre_share = genre_share
        self.genre_cap = max(1, math.floor(genre_share * target + 1e-9))
        self.artists: Counter[str] = Counter()
        self.genres: Counter[str] = Counter()

    def allows(self, c: Candidate) -> bool:
        if self.artists[c.artist] >= self.per_artist:
            return False
        return not (c.genre and self.genres[c.genre] >= self.genre_cap)

    def take(self, c: Candidate) -> None:
        self.artists[c.artist] += 1
        if c.genre:
            self.genres[c.genre] += 1


def _relaxed_for(c: Candidate, limits: _Limits, asked: _Limits) -> str:
    """Which of the limits asked for ``c`` breaks, with the counts taken before it."""
    reasons = []
    if limits.artists[c.artist] >= asked.per_artist:
        reasons.append(f"artist limit raised to {limits.per_artist}")
    if c.genre and limits.genres[c.genre] >= asked.genre_cap:
        reasons.append(f"genre share raised to {round(limits.genre_share * 100)} %")
    return "; ".join(reasons)


def _fill(
    ranked: list[Candidate],
    *,
    target: int,
    explore: int,
    limits: _Limits,
    asked: _Limits,
    rng: random.Random,
) -> tuple[list[Candidate], dict[str, Why], int]:
    chosen: list[Candidate] = []
    why: dict[str, Why] = {}

    def take(c: Candidate, pick: Pick) -> None:
        why[c.rating_key] = Why(pick, _relaxed_for(c, limits, asked))
        chosen.append(c)
        limits.take(c)

    # Exploitation: the best-scored candidates that fit.
    for c in ranked:
        if len(chosen) >= target - explore:
            break
        if limits.allows(c):
            take(c, Pick.TOP)
    # Exploration: random picks among the rest, so lower-ranked tracks get a chance.
    rest = [c for c in ranked if c.rating_key not in why]
    rng.shuffle(rest)
    explored = 0
    for c in rest:
        if len(chosen) >= target:
            break
        if limits.allows(c):
            take(c, Pick.EXPLORATION)
            explored += 1
    # Anything still missing: the best remaining that fit (exploration found too few).
    for c in ranked:
        if len(chosen) >= target:
            break
        if c.rating_key not in why and limits.allows(c):
            take(c, Pick.FILL)
    return chosen, why, explored


def select(
    candidates: list[Candidate],
    *,
    target: int,
    rng: random.Random,
    max_per_artist: int = 2,
    max_genre_share: float = 0.4,
    exploration: float = 0.15,
) -> Selection:
    """Pick up to ``target`` tracks under the limits, relaxing them only when needed."""
    unique = {c.rating_key: c for c in candidates}
    ranked = sorted(unique.values(), key=lambda c: (-c.score, c.rating_key))
    target = min(target, len(ranked))
    explore = round(target * exploration)
    steps = [(max_per_artist, max_genre_share)]
    share = max_genre_share
    while share < 1.0:  # relax the genre share first …
        share = min(1.0, share + 0.1)
        steps.append((max_per_artist, share))
    per_artist = max_per_artist
    while per_artist < target:  # … then the artist limit
        per_artist += 1
        steps.append((per_artist, 1.0))
    asked = _Limits(target, max_per_artist, max_genre_share)
    chosen: list[Candidate] = []
    why: dict[str, Why] = {}
    explored = 0
    for per_artist, share in steps:
        limits = _Limits(target, per_artist, share)
        chosen, why, explored = _fill(
            ranked,
            target=target,
            explore=explore,
            limits=limits,
            asked=asked,
            rng=random.Random(rng.random()),
        )
        if len(chosen) >= target:
            break
    # A mix plays best-first, with the explored picks spread through it.
    chosen.sort(key=lambda c: -c.score)
    return Selection(chosen, explored, per_artist, share, why)
