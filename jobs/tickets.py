"""Tickets: the Django-Q2 tasks that make a worker claim and run the best queued job.

A ticket carries no job id. Whatever order the broker delivers tickets in, the claim query
picks by priority then FIFO, and a surplus ticket finds nothing and ends at once — so a
lost ticket is fixed by pushing another, and a duplicated one is harmless.
"""

from __future__ import annotations

import logging
import os
from typing import Any

logger = logging.getLogger(__name__)

RUN_NEXT = "jobs.tasks.run_next"

_broker: tuple[int, Any] | None = None


def broker() -> Any:
    # One broker per process: the Redis broker otherwise opens a client per async_task. The
    # pid check keeps a forked child from sharing its parent's socket.
    global _broker
    from django_q.brokers import get_broker

    if _broker is None or _broker[0] != os.getpid():
        _broker = (os.getpid(), get_broker())
    return _broker[1]


def push(count: int = 1) -> int:
    """Push ``count`` tickets; returns how many reached the broker (errors are logged)."""
    from django_q.tasks import async_task

    pushed = 0
    for _ in range(count):
        try:
            async_task(RUN_NEXT, save=False, broker=broker())
        except Exception:
            # The job row is safe in the database; maintenance re-tickets queued jobs.
            logger.exception("could not push a job ticket to the broker")
            break
        pushed += 1
    return pushed
