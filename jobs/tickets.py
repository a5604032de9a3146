"""Tickets: the Django-Q2 tasks that make a worker claim and run queued jobs.

A ticket carries no job id. Whatever order the broker delivers tickets in, the claim query
picks by priority then FIFO, and a surplus ticket finds nothing and ends at once — so a
lost ticket is fixed by pushing another, and a duplicated one is harmless.

A ticket drains: after its job it claims the next due one, for up to ``DRAIN_SECONDS``
(see ``runner.run_next``). So one ticket waiting in the broker is enough for any number of
jobs enqueued behind it, and ``enqueue`` pushes one only when none is waiting — a flag in
the live store, set before a push and cleared when a ticket starts. The flag expires after
``WAITING_TTL``. A ticket lost with its broker (a flush, a restart) leaves the jobs that
counted on it to the re-ticketing — after a job at most every 5 s, at a worker's start,
and in the periodic maintenance — exactly as a lost ticket did before; it never loses one.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import caches

from jobs.perprocess import PerProcess

logger = logging.getLogger(__name__)

RUN_NEXT = "jobs.tasks.run_next"
WAITING_TTL = 10


def _new_broker() -> Any:
    from django_q.brokers import get_broker

    return get_broker()


# One broker per process: the Redis broker otherwise opens a client per async_task.
_broker = PerProcess(_new_broker)


def broker() -> Any:
    return _broker.get()


def push(count: int = 1) -> int:
    """Push ``count`` tickets; returns how many reached the broker (errors are logged).

    Whoever pushes sets the waiting flag first — a retry, a rescue, a re-ticketing as much
    as an enqueue — so that the next enqueue counts on the ticket already waiting.
    """
    from django_q.tasks import async_task

    _set_waiting()
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


def _waiting_key() -> str:
    # Per cluster name: clusters with different names have different queues.
    return f"jobs:ticket-waiting:{settings.Q_CLUSTER['name']}"


def _set_waiting() -> None:
    # Before the push: a ticket that starts at once clears it, never the other way round.
    try:
        caches["live"].set(_waiting_key(), 1, WAITING_TTL)
    except Exception:
        logger.warning("could not set the waiting-ticket flag", exc_info=True)


def push_unless_waiting() -> int:
    """Push a ticket unless one is already waiting for a worker; how many were pushed."""
    try:
        if caches["live"].get(_waiting_key()):
            return 0
    except Exception:
        logger.warning("could not read the waiting-ticket flag; pushing one", exc_info=True)
    pushed = push()
    if not pushed:
        clear_waiting()
    return pushed


def clear_waiting() -> None:
    """A ticket has started: jobs enqueued from now on need a ticket of their own."""
    try:
        caches["live"].delete(_waiting_key())
    except Exception:
        # At worst the flag expires on its own and one enqueue skips a push it needed,
        # which the re-ticketing heals.
        logger.warning("could not clear the waiting-ticket flag", exc_info=True)
