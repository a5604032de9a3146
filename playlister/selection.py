"""Choosing a playlist's tracks from scored candidates.

Limits: at most ``max_per_artist`` tracks per artist and at most ``max_genre_share`` of the
playlist from one genre. When the candidates cannot fill the playlist under them, the limits
are relaxed one step at a time — the genre share first, then the artist limit — and only as
far as needed. ``exploration`` of the playlist is drawn at random from the less obvious
candidates so the mix does not freeze. All randomness comes from ``rng``.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    rating_key: str
    artist: str
    score: float
    genre: str = ""  # the primary genre; "" = unknown (not limited)
    title: str = ""
    duration_ms: int = 0


@dataclass
class Selection:
    tracks: list[Candidate] = field(default_factory=list)
    explored: int = 0
    max_per_artist: int = 2
    max_genre_share: float = 0.4

    @property
    def relaxed(self) -> bool:
        return self.max_per_artist > 2 or self.max_genre_share > 0.4


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


def _fill(
    ranked: list[Candidate],
    *,
    target: int,
    explore: int,
    limits: _Limits,
    rng: random.Random,
) -> tuple[list[Candidate], int]:
    chosen: list[Candidate] = []
    taken: set[str] = set()
    # Exploitation: the best-scored candidates that fit.
    for c in ranked:
        if len(chosen) >= target - explore:
            break
        if limits.allows(c):
            chosen.append(c)
            taken.add(c.rating_key)
            limits.take(c)
    # Exploration: random picks among the rest, so lower-ranked tracks get a chance.
    rest = [c for c in ranked if c.rating_key not in taken]
    rng.shuffle(rest)
    explored = 0
    for c in rest:
        if len(chosen) >= target:
            break
        if limits.allows(c):
            chosen.append(c)
            taken.add(c.rating_key)
            limits.take(c)
            explored += 1
    # Anything still missing: the best remaining that fit (exploration found too few).
    for c in ranked:
        if len(chosen) >= target:
            break
        if c.rating_key not in taken and limits.allows(c):
            chosen.append(c)
            taken.add(c.rating_key)
            limits.take(c)
    return chosen, explored


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
    chosen: list[Candidate] = []
    explored = 0
    for per_artist, share in steps:
        limits = _Limits(target, per_artist, share)
        chosen, explored = _fill(
            ranked, target=target, explore=explore, limits=limits, rng=random.Random(rng.random())
        )
        if len(chosen) >= target:
            break
    # A mix plays best-first, with the explored picks spread through it.
    chosen.sort(key=lambda c: -c.score)
    return Selection(chosen, explored, per_artist, share)
