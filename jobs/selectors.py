"""Reads of the job system: a job by its id, queue stats, live progress (the metrics are
``queries.type_metrics``, in SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404

from jobs import live
from jobs.models import ACTIVE_STATUSES, JobRun, JobStatus
from jobs.params import preview
from jobs.registry import JobError

if TYPE_CHECKING:
    from collections.abc import Iterable


class JobNotFound(JobError, Http404):
    """No job has this id. An ``Http404`` too: a view that looks a job up answers 404 (JSON
    on the API's paths, ``jobs.views.access.api_endpoint``)."""

    def __init__(self, job_id: object) -> None:
        super().__init__(f"no job with id {preview(job_id)}")
        self.job_id = job_id


def get_job(job_id: int | str, *fields: str) -> JobRun:
    """The job ``job_id`` names (only ``fields`` loaded, if given), else ``JobNotFound``.

    Text that is no whole number names no job either (Django itself matches nothing for a
    number beyond the ids' 64-bit range).
    """
    try:
        pk = int(job_id)
    except (TypeError, ValueError):
        raise JobNotFound(job_id) from None
    rows = JobRun.objects.filter(pk=pk)
    job = (rows.only(*fields) if fields else rows).first()
    if job is None:
        raise JobNotFound(job_id)
    return job


class QueueStats(TypedDict):
    pending: int
    size: int
    active: int
    concurrency: int


def queue_stats() -> QueueStats:
    """The seed's shape: jobs waiting, waiting + running, running, worker slots.

    Only queued work counts: direct runs (CLI, cron) take no worker slot.
    """
    counts = JobRun.objects.filter(status__in=ACTIVE_STATUSES, direct=False).aggregate(
        pending=Count("id", filter=Q(status=JobStatus.QUEUED)),
        active=Count("id", filter=Q(status=JobStatus.RUNNING)),
    )
    return _stats(counts["pending"], counts["active"])


def queue_stats_of(active_jobs: Iterable[JobRun]) -> QueueStats:
    """``queue_stats`` counted from *every* queued and running job, already loaded.

    The dashboard lists the active jobs anyway; when that list is complete, counting it
    saves a query per poll and gives counts that agree with the cards shown beside them.
    """
    pending = active = 0
    for job in active_jobs:
        if job.direct:
            continue
        if job.status == JobStatus.QUEUED:
            pending += 1
        elif job.status == JobStatus.RUNNING:
            active += 1
    return _stats(pending, active)


def _stats(pending: int, active: int) -> QueueStats:
    return {
        "pending": pending,
        "size": pending + active,
        "active": active,
        "concurrency": settings.PLAYLISTER_JOB_WORKERS,
    }


@dataclass(frozen=True)
class ProgressView:
    """What a person watching a job sees; live store first, the row otherwise."""

    status: str
    current: int
    total: int | None
    message: str
    eta_seconds: float | None
    source_counts: dict[str, int]
    live: bool

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.current / self.total))

    def as_json(self) -> dict[str, Any]:
        """The seed's progress event: current, total, message, eta (ms), sourceCounts."""
        return {
            "status": self.status,
            "current": self.current,
            "total": self.total,
            "message": self.message,
            "eta": None if self.eta_seconds is None else round(self.eta_seconds * 1000),
            "sourceCounts": self.source_counts,
        }


def progress_of(job: JobRun, live_state: live.LiveProgress | None = None) -> ProgressView:
    """The progress of ``job``; a running job's is read from the live store unless given."""
    if live_state is None and job.status == JobStatus.RUNNING:
        live_state = live.read_progress(job.pk)
    return progress_view(job, live_state)


def progress_view(job: JobRun, live_state: live.LiveProgress | None) -> ProgressView:
    """The progress of ``job`` given what the live store holds for it (None: nothing)."""
    if live_state is not None and job.status == JobStatus.RUNNING:
        return ProgressView(
            status=job.status,
            current=live_state.current,
            total=live_state.total,
            message=live_state.message,
            eta_seconds=live_state.eta_seconds,
            source_counts=live_state.source_counts,
            live=True,
        )
    return ProgressView(
        status=job.status,
        current=job.progress_current,
        total=job.progress_total,
        message=job.progress_message,
        eta_seconds=None,
        source_counts=dict(job.source_counts or {}),
        live=False,
    )


def progress_of_many(jobs: list[JobRun]) -> dict[int, ProgressView]:
    """Progress of several jobs with one live-store round trip.

    A running job missing from the answer has no live state (just claimed, or the store was
    flushed): it is not asked for again, one by one.
    """
    running = [job.pk for job in jobs if job.status == JobStatus.RUNNING]
    states = live.read_progress_many(running)
    return {job.pk: progress_view(job, states.get(job.pk)) for job in jobs}
