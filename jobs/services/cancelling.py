"""Cancelling runs: a queued one at once, a running one at its next checkpoint."""

from __future__ import annotations

from django.utils import timezone

from jobs import live
from jobs.models import JobRun, JobStatus
from jobs.registry import JobError
from jobs.selectors import get_job


class JobAlreadyFinished(JobError):
    def __init__(self, job: JobRun) -> None:
        super().__init__(f"job {job.pk} has already finished ({job.status})")
        self.job = job


CANCELLED_BEFORE_START = "Cancelled before it started"


def cancel_job(*, job_id: int) -> JobRun:
    """Cancel a job: a queued one at once, a running one at its next checkpoint.

    Raises ``JobNotFound`` or ``JobAlreadyFinished``. Returns the job as it is now.
    """
    now = timezone.now()
    if (
        JobRun.objects.filter(id=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED,
            cancel_requested_at=now,
            finished_at=now,
            error=CANCELLED_BEFORE_START,
        )
        == 1
    ):
        return JobRun.objects.get(id=job_id)
    # Not queued (any more): if it is running, ask it to stop; a claim may have happened
    # between the two UPDATEs, which is why this order is safe.
    if (
        JobRun.objects.filter(
            id=job_id, status=JobStatus.RUNNING, cancel_requested_at__isnull=True
        ).update(cancel_requested_at=now)
        == 1
    ):
        asked = JobRun.objects.get(id=job_id)
        live.request_cancel(job_id, asked.started_at)
        return asked
    job = get_job(job_id)
    if job.status == JobStatus.RUNNING:  # a cancel was already requested: say so again
        live.request_cancel(job_id, job.started_at)
        return job
    raise JobAlreadyFinished(job)


def cancel_running() -> int:
    """Ask every running job to stop (the seed's "cancel all running"); returns how many."""
    now = timezone.now()
    runs = dict(
        JobRun.objects.filter(
            status=JobStatus.RUNNING, cancel_requested_at__isnull=True
        ).values_list("id", "started_at")
    )
    updated = JobRun.objects.filter(
        id__in=list(runs), status=JobStatus.RUNNING, cancel_requested_at__isnull=True
    ).update(cancel_requested_at=now)
    for job_id, started_at in runs.items():
        # Flag that run only: a flag outlives a job that ended before it looked, and must
        # not stop a later job given the same id (SQLite reuses ids after a reset).
        live.request_cancel(job_id, started_at)
    return updated
