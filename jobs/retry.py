"""Retry policy: which failures are worth another attempt, and when.

A service signals a failure that may pass (a provider's 429/5xx, a timeout) by raising
``TransientError`` — or any exception listed in its job type's ``transient_errors``. The
queue then runs the job again after an exponential backoff with jitter (1 s, 2 s, 4 s, 8 s …
capped), or after the provider's ``Retry-After`` when it gave one, until ``max_attempts``.
Anything else is permanent: one attempt, ``failed``.
"""

from __future__ import annotations

import random


class TransientError(Exception):
    """A failure that may pass if the job runs again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def backoff_delay(
    attempt: int,
    *,
    base: float = 1.0,
    cap: float = 300.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    ``base · 2^(attempt-1)``, capped, times a random factor in ``[1 - jitter, 1 + jitter]``
    so that jobs failing together do not retry together. With ``jitter`` ≤ 1/3 the delays
    still grow strictly from one attempt to the next (below the cap).
    """
    raw = min(cap, base * 2.0 ** max(0, attempt - 1))
    factor = 1.0 + float((rng or random).uniform(-jitter, jitter))
    return raw * factor


def retry_delay(
    exc: BaseException, attempt: int, *, rng: random.Random | None = None, cap: float = 300.0
) -> float:
    """The wait before the next attempt: the provider's ``Retry-After`` wins when given."""
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, (int, float)) and retry_after >= 0:
        return float(retry_after)
    return backoff_delay(attempt, rng=rng, cap=cap)
