"""What a person (or a script) sees of a job: formatted figures, results and errors in
words (``jobs.results``), and the API's JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils import timezone

from jobs import registry, selectors
from jobs.checkpoint import resumed_text
from jobs.models import ACTIVE_STATUSES, FINISHED_STATUSES, JobRun, JobStatus, Trigger
from jobs.results import Presented, duration_text, readable_error, sentence

if TYPE_CHECKING:
    from datetime import datetime


def type_label(job_type: str) -> str:
    try:
        return registry.get(job_type).label
    except registry.UnknownJobType:
        return job_type


# Reversed in place of the id, then replaced by each row's id. Any positive integer matches
# an ``<int:…>`` converter and needs no quoting, so the result equals ``reverse(name, [id])``.
_ID_PLACEHOLDER = 9_182_736_450_123


class IdUrl:
    """The URL of a pattern with one integer argument, reversed once for a whole page.

    ``{% url 'jobs:detail' j.pk %}`` in a row cost one ``reverse`` per row (~45 µs each, the
    largest single cost of rendering the history table); this formats the id into a URL
    reversed once instead.
    """

    def __init__(self, name: str) -> None:
        url = reverse(name, args=[_ID_PLACEHOLDER])
        self._head, _, self._tail = url.rpartition(str(_ID_PLACEHOLDER))

    def __call__(self, pk: int) -> str:
        return f"{self._head}{pk}{self._tail}"


@dataclass(frozen=True)
class JobLinks:
    """The per-row URLs of one page (see ``IdUrl``)."""

    detail: IdUrl
    cancel: IdUrl
    retry: IdUrl

    @classmethod
    def build(cls) -> JobLinks:
        return cls(
            detail=IdUrl("jobs:detail"), cancel=IdUrl("jobs:cancel"), retry=IdUrl("jobs:retry")
        )


@dataclass(frozen=True)
class JobView:
    """A job row plus its progress (live store first), ready for a template.

    Rows are rendered by the hundred (history, dashboard), so everything a row shows is
    computed here once, as plain strings, rather than in the template with ``{% url %}``,
    ``|date`` and two-step lookups (``j.job.status``), which cost several times more there.
    """

    job: JobRun
    progress: selectors.ProgressView
    # Shared by the rows of one page; None: reversed for this row alone.
    links: JobLinks | None = field(default=None, repr=False, compare=False)

    @property
    def pk(self) -> int:
        return self.job.pk

    @property
    def status(self) -> str:
        return self.job.status

    @property
    def trigger(self) -> str:
        return self.job.trigger

    @property
    def window(self) -> str:
        return self.job.window

    @property
    def error(self) -> str:
        """The error as a sentence (rows written before issue 16 named exception classes)."""
        return readable_error(self.job.error) if self.job.error else ""

    @cached_property
    def presented(self) -> Presented | None:
        """A successful run's result for people; None for other runs, or when the row was
        read without its result (the history table leaves the JSON in the database)."""
        if self.job.status != JobStatus.SUCCESS or "result" in self.job.get_deferred_fields():
            return None
        return registry.presented(self.job.job_type, self.job.result)

    @property
    def outcome(self) -> str:
        """How a finished run ended, in one sentence: its result, its error, its cancel."""
        if self.presented is not None:
            return self.presented.summary
        if self.job.status == JobStatus.CANCELLED:
            return self.error or "Cancelled."
        return self.error

    @property
    def resumed(self) -> str:
        """ "resumed from 270/300 (attempt 2)" when this run continued from a checkpoint.
        (A row read without its checkpoint, as the history reads it, says nothing.)"""
        if "checkpoint" in self.job.get_deferred_fields():
            return ""
        return resumed_text(self.job.checkpoint)

    @property
    def waiting_for_retry(self) -> bool:
        """Queued with a ``run_after`` still ahead: an attempt failed, the next one waits."""
        return self.job.status == JobStatus.QUEUED and self.job.run_after > timezone.now()

    @property
    def direct_from(self) -> str:
        """Where a run that takes no worker slot was started: "the CLI", "cron"."""
        if not self.job.direct:
            return ""
        return "cron" if self.job.trigger == Trigger.SCHEDULE else "the CLI"

    @cached_property
    def url(self) -> str:
        """The job's detail page."""
        return (self.links or JobLinks.build()).detail(self.pk)

    @cached_property
    def cancel_url(self) -> str:
        return (self.links or JobLinks.build()).cancel(self.pk)

    @cached_property
    def retry_url(self) -> str:
        return (self.links or JobLinks.build()).retry(self.pk)

    @property
    def retryable(self) -> bool:
        """Finished (failed, cancelled or successful) and of a type that still exists."""
        return self.job.status in FINISHED_STATUSES and registry.is_registered(self.job.job_type)

    @property
    def retry_label(self) -> str:
        return "Run again" if self.job.status == JobStatus.SUCCESS else "Retry"

    @cached_property
    def _started_local(self) -> datetime | None:
        started = self.job.started_at
        return None if started is None else timezone.localtime(started)

    @property
    def started_iso(self) -> str:
        """``started_at`` as ``|date:'c'`` shows it (local time, ISO 8601); "" if never."""
        started = self._started_local
        return "" if started is None else started.isoformat()

    @property
    def started_text(self) -> str:
        """``started_at`` as ``|date:"Y-m-d H:i:s"`` shows it (local time); "" if never."""
        started = self._started_local
        return "" if started is None else started.strftime("%Y-%m-%d %H:%M:%S")

    @property
    def label(self) -> str:
        return type_label(self.job.job_type)

    @property
    def window_text(self) -> str:
        """``Morning``: the window as a heading shows it."""
        return sentence(self.job.window)

    @property
    def window_differs(self) -> bool:
        """Playlist jobs have a window (morning, evening, …); other types repeat their name."""
        return self.job.window != self.job.job_type

    @property
    def is_active(self) -> bool:
        return self.job.status in ACTIVE_STATUSES

    @property
    def cancelling(self) -> bool:
        return self.job.status == JobStatus.RUNNING and self.job.cancel_requested_at is not None

    @property
    def eta_text(self) -> str:
        return duration_text(self.progress.eta_seconds)

    @property
    def elapsed_seconds(self) -> float | None:
        """Run time: finished minus started, or so far for a running job."""
        if self.job.started_at is None:
            return None
        end = self.job.finished_at or timezone.now()
        return (end - self.job.started_at).total_seconds()

    @property
    def duration_text(self) -> str:
        return duration_text(self.elapsed_seconds)

    @property
    def waited_text(self) -> str:
        """Time spent queued before a worker took it."""
        start = self.job.started_at or (None if self.job.finished_at else timezone.now())
        if start is None:
            return ""
        return duration_text(max(0.0, (start - self.job.queued_at).total_seconds()))

    @property
    def source_counts(self) -> list[tuple[str, int]]:
        return sorted(self.progress.source_counts.items())


def job_views(jobs: list[JobRun]) -> list[JobView]:
    """Views of several jobs with one live-store round trip and one ``reverse`` per URL."""
    progress = selectors.progress_of_many(jobs)
    links = JobLinks.build()
    return [JobView(job, progress[job.pk], links) for job in jobs]


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
        "retryOf": job.retry_of_id,
        # "resumed from 270/300 (attempt 2)" when it continued from a checkpoint, else "".
        "resumed": view.resumed,
        "progress": progress.as_json(),
        "result": job.result,
        "presented": _presented_json(view),
        "error": job.error,
    }


def _presented_json(view: JobView) -> dict[str, Any] | None:
    return view.presented.as_json() if view.presented is not None else None


def end_event(job: JobRun, progress: selectors.ProgressView) -> dict[str, Any]:
    """The stream's final event: the last progress plus how the job ended, in words
    (``summary``: the result's sentence, the error or the cancel) and as data."""
    view = JobView(job, progress)
    return {
        **progress.as_json(),
        "jobId": job.pk,
        "summary": view.outcome,
        "presented": _presented_json(view),
        "error": job.error,
        "result": job.result,
        "finishedAt": _iso(job.finished_at),
    }
