"""A direct run (CLI, cron) that meets an active job with the same dedupe key.

Exactly one process runs a given run, and here it is not this one: at a terminal the
command follows the other job — its live progress, the row as the fallback — until it ends
and exits with its outcome; from cron it logs a skip. A queued job that no cluster will
ever take is named with what to do instead of being waited for in vain.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from jobs import selectors
from jobs.cluster import cluster_running
from jobs.models import FINISHED_STATUSES, JobRun, JobStatus

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from jobs.selectors import ProgressView

POLL_SECONDS = 0.25
# A queued job with no running cluster for this long is not going to start by itself
# (a cluster being restarted reports itself again within a few seconds).
NO_CLUSTER_GRACE = 10.0


class Display(Protocol):
    """What following draws on: the terminal bar."""

    def show(self, view: ProgressView) -> None: ...


def describe(job: JobRun) -> str:
    """``web, 43 %``: who started the job and how far it is."""
    percent = selectors.progress_of(job).percent if job.status == JobStatus.RUNNING else None
    return job.trigger + (f", {percent} %" if percent is not None else "")


def orphaned(job: JobRun, job_type: str) -> str | None:
    """If ``job`` is queued and no cluster runs to take it, the line that says what to do."""
    if job.status != JobStatus.QUEUED or cluster_running():
        return None
    return (
        f"{job_type} is already queued as job {job.pk} ({job.trigger}) but no job cluster "
        f"is running: start one (`manage.py qcluster`) or cancel the job "
        f"(`manage.py jobs cancel {job.pk}`)"
    )


def announcement(job: JobRun, job_type: str) -> str:
    return (
        f"{job_type} is already {job.status} as job {job.pk} ({describe(job)}) — following "
        f"it; Ctrl+C stops following, `manage.py jobs cancel {job.pk}` stops the job"
    )


def skip_line(job: JobRun, job_type: str) -> str:
    return f"{job_type} skipped: job {job.pk} already {job.status} ({job.trigger})"


def follow(
    job: JobRun,
    *,
    display: Display,
    stop: threading.Event,
    job_type: str,
    poll: float = POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[JobRun, str | None]:
    """Show ``job``'s progress until it ends or ``stop`` is set.

    Returns the row as last read, and the line to print if following was given up because
    the job sits in the queue with no cluster to run it (it lost its cluster meanwhile).
    """
    unattended_since: float | None = None
    while True:
        current = JobRun.objects.filter(pk=job.pk).first()
        if current is None:  # pruned or deleted under our feet: report what we last saw
            return job, None
        job = current
        if job.status in FINISHED_STATUSES:
            display.show(selectors.progress_of(job))
            return job, None
        display.show(selectors.progress_of(job))
        if job.status == JobStatus.QUEUED:
            unattended_since = unattended_since if unattended_since is not None else clock()
            if clock() - unattended_since >= NO_CLUSTER_GRACE and (line := orphaned(job, job_type)):
                return job, line
        else:
            unattended_since = None
        if stop.wait(poll):
            return job, None
