"""Which job is this code working for? The run's context, seen from any of its threads.

The runner binds a ``JobContext`` (the run's own log and its usage counters) to a
``contextvars.ContextVar`` in the thread that calls the core service. Threads the service
starts do not inherit context variables (``threading.Thread`` and ``ThreadPoolExecutor``
start them empty), so services start theirs through ``ContextThreadPoolExecutor``, which runs
every task in a copy of the submitting thread's context — the same mechanism asyncio's
``to_thread`` uses. Code that runs outside any job (a web request, the reporter thread, a
fake server's thread) sees no context and records nothing.

Everything here only touches memory: the reporter thread and the runner write it out.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from concurrent.futures import Future

    from jobs.joblog import LogBuffer

P = ParamSpec("P")
T = TypeVar("T")

# The counters of one external service in ``JobRun.usage``.
USAGE_FIELDS = ("requests", "errors", "wait_seconds")


class Usage:
    """Per-service counters of one run (requests, errors, seconds waited for a rate limit),
    thread-safe; seeded with what earlier attempts of the run recorded."""

    def __init__(self, initial: Mapping[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, float]] = {}
        for name, counts in (initial or {}).items():
            if isinstance(counts, dict):
                self.add(str(name), **{k: float(counts.get(k) or 0) for k in USAGE_FIELDS})

    def add(
        self, service: str, *, requests: float = 0, errors: float = 0, wait_seconds: float = 0
    ) -> None:
        with self._lock:
            counts = self._counts.setdefault(service, dict.fromkeys(USAGE_FIELDS, 0.0))
            counts["requests"] += requests
            counts["errors"] += errors
            counts["wait_seconds"] += wait_seconds

    def as_json(self) -> dict[str, dict[str, float]]:
        """``JobRun.usage``: counts as integers, waits rounded to milliseconds."""
        with self._lock:
            return {
                name: {
                    "requests": int(c["requests"]),
                    "errors": int(c["errors"]),
                    "wait_seconds": round(c["wait_seconds"], 3),
                }
                for name, c in sorted(self._counts.items())
            }


class JobContext:
    """What the threads of one running attempt share: its log buffer and usage counters."""

    def __init__(self, job_id: int, *, attempt: int, log: LogBuffer, usage: Usage) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.log = log
        self.usage = usage
        # Records below this level are not kept (the runner raises it around its own
        # bookkeeping, so that only warnings and tracebacks about the outcome join the log).
        self.min_level = 0


_current: contextvars.ContextVar[JobContext | None] = contextvars.ContextVar(
    "playlister_job", default=None
)


def current() -> JobContext | None:
    """The job the calling thread works for, if any."""
    return _current.get()


@contextmanager
def bound(context: JobContext, *, min_level: int = 0) -> Iterator[JobContext]:
    """Make ``context`` the current job's in this thread (and in the tasks it submits to a
    ``ContextThreadPoolExecutor``) for the duration of the block."""
    previous_level = context.min_level
    context.min_level = min_level
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
        context.min_level = previous_level


def record_usage(
    service: str, *, requests: float = 0, errors: float = 0, wait_seconds: float = 0
) -> None:
    """Count ``requests``, ``errors`` and rate-limit ``wait_seconds`` of the external service
    ``service`` for the current job (nothing outside a job). Cheap: memory only."""
    context = _current.get()
    if context is not None:
        context.usage.add(service, requests=requests, errors=errors, wait_seconds=wait_seconds)


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` whose tasks run in a copy of the submitter's context, so that
    their log records and usage belong to the job that submitted them."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        context = contextvars.copy_context()
        return super().submit(functools.partial(context.run, fn, *args, **kwargs))
