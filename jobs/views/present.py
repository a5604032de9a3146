"""What a person (or a script) sees of a job: formatted figures and the API's JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from jobs import registry, selectors
from jobs.models import JobRun, JobStatus

if TYPE_CHECKING:
    from datetime import datetime


def format_seconds(seconds: float | None) -> str:
    """``850 ms``, ``12s``, ``3m 05s``, ``2h 04m``: short enough for a table cell."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def type_label(job_type: str) -> str:
    try:
        return registry.get(job_type).label
    except registry.UnknownJobType:
        return job_type


@dataclass(frozen=True)
class JobView:
    """A job row plus its progress (live store first), ready for a template."""

    job: JobRun
    progress: selectors.ProgressView

    @property
    def pk(self) -> int:
        return self.job.pk

    @property
    def label(self) -> str:
        return type_label(self.job.job_type)

    @property
    def window_differs(self) -> bool:
        """Playlist jobs have a window (morning, evening, …); other types repeat their name."""
        return self.job.window != self.job.job_type

    @property
    def is_active(self) -> bool:
        return self.job.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def cancelling(self) -> bool:
        return self.job.status == JobStatus.RUNNING and self.job.cancel_requested_at is not None

    @property
    def eta_text(self) -> str:
        return format_seconds(self.progress.eta_seconds)

    @property
    def elapsed_seconds(self) -> float | None:
        """Run time: finished minus started, or so far for a running job."""
        if self.job.started_at is None:
            return None
        end = self.job.finished_at or timezone.now()
        return (end - self.job.started_at).total_seconds()

    @property
    def duration_text(self) -> str:
        return format_seconds(self.elapsed_seconds)

    @property
    def waited_text(self) -> str:
        """Time spent queued before a worker took it."""
        start = self.job.started_at or (None if self.job.finished_at else timezone.now())
        if start is None:
            return ""
        return format_seconds(max(0.0, (start - self.job.queued_at).total_seconds()))

    @property
    def source_counts(self) -> list[tuple[str, int]]:
        return sorted(self.progress.source_counts.items())


def job_views(jobs: list[JobRun]) -> list[JobView]:
    """Views of several jobs with one live-store round trip."""
    progress = selectors.progress_of_many(jobs)
    return [JobView(job, progress[job.pk]) for job in jobs]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def job_json(job: JobRun, progress: selectors.ProgressView | None = None) -> dict[str, Any]:
    """``GET /jobs/<id>.json``: the row, its live progress (the seed's shape) and timeline."""
    progress = progress or selectors.progress_of(job)
    view = JobView(job, progress)
    return {
        "id": job.pk,
        "jobType": job.job_type,
        "label": view.label,
        "window": job.window,
        "params": job.params,
        "status": job.status,
        "trigger": job.trigger,
        "direct": job.direct,
        "priority": job.priority,
        "attempt": job.attempt,
        "maxAttempts": job.max_attempts,
        "queuedAt": _iso(job.queued_at),
        "runAfter": _iso(job.run_after),
        "startedAt": _iso(job.started_at),
        "finishedAt": _iso(job.finished_at),
        "heartbeatAt": _iso(job.heartbeat_at),
        "durationSeconds": view.elapsed_seconds,
        "cancelRequested": job.cancel_requested_at is not None,
        "worker": job.worker,
        "progress": progress.as_json(),
        "result": job.result,
        "error": job.error,
    }


def end_event(job: JobRun, progress: selectors.ProgressView) -> dict[str, Any]:
    """The stream's final event: the last progress plus how the job ended."""
    return {
        **progress.as_json(),
        "jobId": job.pk,
        "error": job.error,
        "result": job.result,
        "finishedAt": _iso(job.finished_at),
    }
