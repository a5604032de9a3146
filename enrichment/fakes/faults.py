"""Fault injection and rate limiting shared by the fakes."""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

Fault = Literal["429", "500", "timeout", "malformed"]


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Rates (0..1) of injected faults; one seeded draw per request picks at most one fault.

    ``retry_after`` is the Retry-After seconds sent with an injected 429; a ``timeout`` holds
    the request ``timeout_seconds`` and then closes the connection without an answer;
    ``malformed`` cuts the body short. ``endpoints`` limits faults to those endpoint names
    (``None`` = every endpoint).
    """

    rate_429: float = 0.0
    retry_after: int = 1
    rate_500: float = 0.0
    rate_timeout: float = 0.0
    timeout_seconds: float = 5.0
    rate_malformed: float = 0.0
    seed: int = 0
    endpoints: frozenset[str] | None = None

    def __post_init__(self) -> None:
        rates = (self.rate_429, self.rate_500, self.rate_timeout, self.rate_malformed)
        if any(r < 0 for r in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError("fault rates must be >= 0 and sum to at most 1")
        if self.retry_after < 0 or self.timeout_seconds < 0:
            raise ValueError("retry_after and timeout_seconds must be >= 0")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``max_requests`` accepted requests in any rolling ``window_seconds``."""

    max_requests: int
    window_seconds: float = 1.0
    endpoints: frozenset[str] | None = None


class FaultInjector:
    """Draws faults from a plan with its own seeded generator (repeatable for serial clients)."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._plan = plan or FaultPlan()
        self._rng = random.Random(self._plan.seed)

    @property
    def plan(self) -> FaultPlan:
        """The plan in force."""
        return self._plan

    def replace(self, plan: FaultPlan | None) -> None:
        """Swap the plan and reseed."""
        with self._lock:
            self._plan = plan or FaultPlan()
            self._rng = random.Random(self._plan.seed)

    def draw(self, endpoint: str) -> tuple[Fault | None, FaultPlan]:
        """The fault for the next request to ``endpoint`` (if any) and the plan it came from."""
        with self._lock:
            plan = self._plan
            if plan.endpoints is not None and endpoint not in plan.endpoints:
                return None, plan
            draw = self._rng.random()
        edge = 0.0
        faults: tuple[tuple[Fault, float], ...] = (
            ("429", plan.rate_429),
            ("500", plan.rate_500),
            ("timeout", plan.rate_timeout),
            ("malformed", plan.rate_malformed),
        )
        for name, rate in faults:
            edge += rate
            if draw < edge:
                return name, plan
        return None, plan


class RateLimiter:
    """A rolling-window limiter; only accepted requests occupy the window."""

    def __init__(self, limit: RateLimit | None = None) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._accepted: deque[float] = deque()

    @property
    def limit(self) -> RateLimit | None:
        """The limit in force."""
        return self._limit

    def replace(self, limit: RateLimit | None) -> None:
        """Swap the limit and forget the window."""
        with self._lock:
            self._limit = limit
            self._accepted.clear()

    def check(self, endpoint: str) -> int | None:
        """Retry-After seconds if the request is over the limit, else ``None`` (and admit it)."""
        with self._lock:
            limit = self._limit
            if limit is None or (limit.endpoints is not None and endpoint not in limit.endpoints):
                return None
            now = time.monotonic()
            while self._accepted and self._accepted[0] <= now - limit.window_seconds:
                self._accepted.popleft()
            if len(self._accepted) >= limit.max_requests:
                return max(1, math.ceil(self._accepted[0] + limit.window_seconds - now))
            self._accepted.append(now)
            return None
