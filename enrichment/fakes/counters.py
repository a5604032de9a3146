"""Thread-safe request counters that tests and benchmarks read from a running fake."""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

STATUS_DROPPED = 0
"""Status recorded for a request whose connection was closed without a response (timeout)."""


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One served (or dropped) request; ``at`` is ``time.monotonic()`` on arrival."""

    at: float
    method: str
    path: str
    endpoint: str
    status: int
    fault: str | None = None
    # Query parameters, so a test can tell which item a request was for (API keys included:
    # these are the fakes' own generated secrets).
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RequestStats:
    """A consistent snapshot of a fake's counters."""

    total: int
    by_endpoint: Mapping[str, int] = field(default_factory=dict)
    by_path: Mapping[str, int] = field(default_factory=dict)
    by_status: Mapping[int, int] = field(default_factory=dict)
    by_fault: Mapping[str, int] = field(default_factory=dict)


class RequestLog:
    """Records every request; all methods are safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._by_endpoint: Counter[str] = Counter()
        self._by_path: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._by_fault: Counter[str] = Counter()

    def add(self, record: RequestRecord) -> None:
        """Count one request."""
        with self._lock:
            self._records.append(record)
            self._by_endpoint[record.endpoint] += 1
            self._by_path[record.path] += 1
            self._by_status[record.status] += 1
            if record.fault is not None:
                self._by_fault[record.fault] += 1

    def stats(self) -> RequestStats:
        """Snapshot of all counters."""
        with self._lock:
            return RequestStats(
                total=len(self._records),
                by_endpoint=dict(self._by_endpoint),
                by_path=dict(self._by_path),
                by_status=dict(self._by_status),
                by_fault=dict(self._by_fault),
            )

    def count(self, endpoint: str | None = None) -> int:
        """Requests in total or for one endpoint name."""
        with self._lock:
            return len(self._records) if endpoint is None else self._by_endpoint[endpoint]

    def records(self, endpoint: str | None = None) -> tuple[RequestRecord, ...]:
        """Recorded requests (optionally of one endpoint) in arrival order."""
        with self._lock:
            records = list(self._records)
        # Handler threads finish out of order; arrival time is what windows care about.
        records.sort(key=lambda r: r.at)
        return tuple(r for r in records if endpoint is None or r.endpoint == endpoint)

    def max_in_window(self, seconds: float = 1.0, endpoint: str | None = None) -> int:
        """Most requests (optionally of one endpoint) that arrived within any ``seconds`` span."""
        times = [r.at for r in self.records(endpoint)]
        best = 0
        for i, start in enumerate(times):
            # Half-open [start, start + seconds): a client pacing exactly 1/s scores 1, not 2.
            j = bisect.bisect_left(times, start + seconds, lo=i)
            best = max(best, j - i)
        return best

    def windows_over(self, limit: int, seconds: float = 1.0, endpoint: str | None = None) -> int:
        """How many ``seconds`` windows held more than ``limit`` requests (optionally of one
        endpoint): the windows [t, t + seconds) starting at each arrival t, as a provider
        that limits requests per rolling window counts them."""
        times = [r.at for r in self.records(endpoint)]
        return sum(
            bisect.bisect_left(times, start + seconds, lo=i) - i > limit
            for i, start in enumerate(times)
        )

    def reset(self) -> None:
        """Forget everything recorded."""
        with self._lock:
            self._records.clear()
            self._by_endpoint.clear()
            self._by_path.clear()
            self._by_status.clear()
            self._by_fault.clear()
