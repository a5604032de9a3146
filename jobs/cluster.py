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
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

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


def cluster_is_stopping(*, clock: Callable[[], float] = time.monotonic) -> bool:
    """In a cluster worker: has the cluster this process belongs to begun to stop?

    Asked before every claim. The answer is at most ``STOPPING_FRESH`` old — never one
    remembered across a job (a job may have run for seconds since): the sentinel saves its
    status the moment it begins to stop, so a worker claims nothing new within 50 ms of it.
    Reusing a younger answer keeps the status read off the path of a stream of short jobs
    (it was a third of a no-op job's cost). The first read finds this worker's cluster among
    all of the deployment's; the next ones read that cluster's status key alone. Any other
    process (a test, a shell running a ticket by hand) has no cluster: False — its parent
    being gone says nothing there.
    """
    global _answer
    if _worker_pid != os.getpid():
        return False
    sentinel = os.getppid()
    if sentinel == 1:  # the sentinel is gone: this worker is an orphan
        return True
    now = clock()
    if _answer is not None and _answer[0] == sentinel and now - _answer[1] < STOPPING_FRESH:
        return _answer[2]
    stopping = _read_stopping(sentinel)
    _answer = (sentinel, now, stopping)
    return stopping


# How long a worker reuses its answer to "is my cluster stopping?" (seconds).
STOPPING_FRESH = 0.05
# (sentinel pid, when read, stopping?) and this worker's cluster's status key.
_answer: tuple[int, float, bool] | None = None
_own_key: tuple[int, str] | None = None


def _read_stopping(sentinel: int) -> bool:
    from django_q.conf import Conf
    from django_q.signing import BadSignature, SignedPackage
    from django_q.status import Stat

    from jobs import tickets

    global _own_key
    if _own_key is not None and _own_key[0] == sentinel:
        pack = tickets.broker().get_stat(_own_key[1])
        try:
            stat = SignedPackage.loads(pack) if pack else None
        except BadSignature:
            stat = None
        if stat is not None and stat.sentinel == sentinel:
            return bool(stat.status in (Conf.STOPPING, Conf.STOPPED))
    for stat in _stats():
        if stat.sentinel == sentinel:
            _own_key = (sentinel, Stat.get_key(stat.cluster_id))
            return bool(stat.status in (Conf.STOPPING, Conf.STOPPED))
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
