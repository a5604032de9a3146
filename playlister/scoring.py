"""Scores: how well a track fits a playlist. Pure functions over plain numbers."""

from __future__ import annotations

import math

RECENCY_HALF_LIFE_DAYS = 7.0
PLAY_COUNT_SATURATION = 25
UNRATED = 0.5  # an unrated track is neither loved nor disliked


def recency(days_since: float) -> float:
    """1 for a play today, halving every week."""
    return math.exp(-math.log(2) * max(0.0, days_since) / RECENCY_HALF_LIFE_DAYS)


def rating_score(user_rating: float | None) -> float:
    """Plex's 0-10 star rating as 0..1 (unrated: neutral)."""
    if user_rating is None:
        return UNRATED
    return min(1.0, max(0.0, user_rating / 10.0))


def play_count_score(count: int) -> float:
    return min(count, PLAY_COUNT_SATURATION) / PLAY_COUNT_SATURATION


Parts = dict[str, float]


def daily_parts(*, days_since: float, user_rating: float | None, plays: int) -> Parts:
    """The daily score's parts: ``recency`` (0.7 of it) and ``quality`` (0.3: 0.6 · rating +
    0.4 · play count)."""
    quality = 0.6 * rating_score(user_rating) + 0.4 * play_count_score(plays)
    return {"recency": 0.7 * recency(days_since), "quality": 0.3 * quality}


def daily_score(*, days_since: float, user_rating: float | None, plays: int) -> float:
    """0.7 · recency + 0.3 · (0.6 · rating + 0.4 · play count)."""
    return sum(daily_parts(days_since=days_since, user_rating=user_rating, plays=plays).values())


def discovery_parts(*, days_absent: float | None, user_rating: float | None) -> Parts:
    """Quality (the rating) and long absence; a never-played track counts as absent a year."""
    absence = 1.0 if days_absent is None else min(1.0, days_absent / 365.0)
    return {"quality": 0.6 * rating_score(user_rating), "absence": 0.4 * absence}


def discovery_score(*, days_absent: float | None, user_rating: float | None) -> float:
    return sum(discovery_parts(days_absent=days_absent, user_rating=user_rating).values())


def throwback_parts(*, plays_then: int, user_rating: float | None) -> Parts:
    """How loved a track was back then: plays in the period and the rating."""
    return {
        "plays then": 0.6 * play_count_score(plays_then * 5),
        "quality": 0.4 * rating_score(user_rating),
    }


def throwback_score(*, plays_then: int, user_rating: float | None) -> float:
    return sum(throwback_parts(plays_then=plays_then, user_rating=user_rating).values())


def profile_fit(*, energy: float | None, tempo: float | None, target: tuple[float, float]) -> float:
    """1 when a track's energy and tempo sit on the window's profile, towards 0 far away."""
    if energy is None or tempo is None:
        return 0.5
    energy_gap = abs(energy - target[0])  # 0..1
    tempo_gap = min(1.0, abs(tempo - target[1]) / 60.0)
    return max(0.0, 1.0 - (0.6 * energy_gap + 0.4 * tempo_gap))
