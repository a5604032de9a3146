"""What the job system needs from Django-Q2 beyond running tickets.

* ``cluster_is_stopping``: a worker learns that its cluster got SIGTERM/Ctrl+C (Django-Q2
  only waits for busy workers; it never tells them), so running jobs stop at their next
  checkpoint and go back to the queue instead of holding the shutdown — or being killed.
* ``cluster_running``: is any cluster of this deployment alive to run queued jobs (a CLI
  run that meets a queued job says what to do when none is)?
* ``on_worker_spawn``: when a worker (re)starts — at cluster start, or after a worker died —
  the jobs that dead local processes held are rescued at once, and queued jobs whose
  ticket was lost get a new one, without waiting for the periodic maintenance.
"""

from __future__ import annotations

import logging
import os
from typing import Any

logger = logging.getLogger(__name__)


# The pid of this process if Django-Q2 spawned it as a worker (set by ``on_worker_spawn``).
_worker_pid: int | None = None


def _stats() -> list[Any]:
    """The status Django-Q2's sentinels save every 0.1-0.5 s (it expires 3 s after the
    last save, so a dead cluster drops out) for the clusters of this deployment's name."""
    from django_q.status import Stat

    from jobs import tickets

    # Our broker object: Stat.get_all() would open a new Redis client on every call.
    return list(Stat.get_all(broker=tickets.broker()) or [])


def cluster_is_stopping() -> bool:
    """In a cluster worker: has the cluster this process belongs to begun to stop?

    Asked before every claim, so it is one read of the broker's status keys, never a
    remembered answer. Any other process (a test, a shell running a ticket by hand) has no
    cluster: False — its parent being gone says nothing there.
    """
    from django_q.conf import Conf

    if _worker_pid != os.getpid():
        return False
    sentinel = os.getppid()
    if sentinel == 1:  # the sentinel is gone: this worker is an orphan
        return True
    for stat in _stats():
        if stat.sentinel == sentinel:
            return stat.status in (Conf.STOPPING, Conf.STOPPED)
    return False


def cluster_running() -> bool:
    """Is a cluster of this deployment running (starting, idle or working), here or on
    another host? A stopping one will not take queued jobs any more."""
    from django_q.conf import Conf

    try:
        stats = _stats()
    except Exception:
        logger.warning("could not read the clusters' status", exc_info=True)
        return True  # cannot tell: do not send a person to start a second cluster
    return any(stat.status in (Conf.STARTING, Conf.IDLE, Conf.WORKING) for stat in stats)


def on_worker_spawn(sender: Any = None, **kwargs: Any) -> None:
    """Django-Q2 ``post_spawn`` receiver (sent in the new worker); must never raise (it
    would kill the worker)."""
    from jobs import maintenance

    global _worker_pid
    _worker_pid = os.getpid()

    try:
        report = maintenance.rescue_lost_jobs(local_only=True)
        pushed = maintenance.reticket()
    except Exception:
        logger.exception("rescue at worker start failed; the periodic maintenance will retry")
        return
    if report.requeued or report.failed or pushed:
        logger.warning(
            "worker start: %s job(s) requeued, %s failed as lost, %s ticket(s) pushed",
            report.requeued,
            report.failed,
            pushed,
        )
