"""Raw Django-Q2 tasks: the anchors the tracked jobs are compared with.

They run on the same cluster, broker and workers as the job system's tickets.
"""

from __future__ import annotations

import time

from django.core.cache import caches

from bench.jobapp.marks import mark

CANCEL_POLL = 0.1


def noop() -> None:
    """Nothing at all: Django-Q2's own cost per task."""


def stamp(t0: float) -> None:
    """Records when the task body started, for the enqueue → start latency."""
    mark("start", repr(t0), repr(time.time()))


def cancel_key(key: str) -> str:
    return f"bench:cancel:{key}"


def cancellable(key: str, limit: float = 60.0) -> str:
    """Cooperative cancellation done by hand (Django-Q2 has no cancel API): poll a flag in
    the shared cache every 100 ms and stop when it is set."""
    cache = caches["live"]
    mark("running", key, repr(time.time()))
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cache.get(cancel_key(key)):
            mark("cancelled", key, repr(time.time()))
            return "cancelled"
        time.sleep(CANCEL_POLL)
    return "timeout"
