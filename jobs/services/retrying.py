"""Running a finished run again: ``retry_job`` (and the bulk "retry failed" / "cancel
queued" of a history filter), ``resume_direct`` from a run's checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from jobs import registry
from jobs.checkpoint import carried_over
from jobs.models import ACTIVE_STATUSES, JobRun, JobStatus, Trigger
from jobs.registry import JobError
from jobs.selectors import get_job
from jobs.services.cancelling import CANCELLED_BEFORE_START
from jobs.services.queueing import (
    _insert_direct,
    _new_run,
    _priority_for,
    _queue,
    _queue_all,
)

if TYPE_CHECKING:
    from datetime import datetime

    from django.db.models import QuerySet

    from jobs.queries import HistoryFilters


class JobStillActive(JobError):
    def __init__(self, job: JobRun) -> None:
        super().__init__(
            f"job {job.pk} is still {job.status}: retry it once it has finished, or cancel it"
        )
        self.job = job


# -- retry and run again (issue 15) ---------------------------------------------------------
# Bulk actions touch at most this many runs per request: bounded time, bounded transactions.
BULK_LIMIT = 1000


# The runs a retry (or ``jobs resume``) continues from their checkpoint.
RESUMABLE_STATUSES = (JobStatus.FAILED, JobStatus.CANCELLED)


# What a repeat of a run reads of it.
_REPEATED_FIELDS = ("id", "job_type", "params", "status", "checkpoint")


def _repeat(original: JobRun, *, trigger: Trigger, now: datetime) -> JobRun:
    """A new queued run of ``original``'s type and params, linked to it (not saved).

    The params are validated again: the type's form may have changed since (``JobParamsError``),
    or the type may be gone (``UnknownJobType``).
    """
    spec = registry.get(original.job_type)
    cleaned = spec.validate(original.params)
    run = _new_run(
        spec, cleaned, trigger=trigger, priority=_priority_for(spec, trigger, None), now=now
    )
    run.retry_of_id = original.pk
    if original.status in RESUMABLE_STATUSES and spec.resumable:
        # A retry continues where the failed or cancelled run stopped; "run again" of a
        # successful one starts fresh (nothing of it is left to do).
        run.checkpoint = carried_over(original.checkpoint, of=original.pk)
    return run


def retry_job(*, job_id: int, trigger: Trigger = Trigger.WEB) -> JobRun:
    """Run a finished job (failed, cancelled or successful) again: a new queued run with the
    same type and params, ``retry_of`` pointing at it, ``trigger`` saying who asked.

    Raises ``JobNotFound``, ``JobStillActive`` (queued or running), ``UnknownJobType`` or
    ``JobParamsError``; nothing is recorded then. Like ``enqueue``, when an active job holds
    the type's dedupe key, returns that job with ``deduplicated=True``.
    """
    original = get_job(job_id, *_REPEATED_FIELDS)
    if original.status in ACTIVE_STATUSES:
        raise JobStillActive(original)
    return _queue(_repeat(original, trigger=trigger, now=timezone.now()))


class NothingToResume(JobError):
    def __init__(self, job: JobRun) -> None:
        super().__init__(
            f"job {job.pk} succeeded: there is nothing left to resume "
            f"(`jobs retry {job.pk}` runs it again)"
        )
        self.job = job


def resume_direct(*, job_id: int, trigger: Trigger = Trigger.CLI) -> JobRun:
    """Continue a failed or cancelled run in this process (``manage.py jobs resume``): a new
    direct run, ``retry_of`` it, that starts from its checkpoint (from the beginning when
    it has none, or its type keeps none).

    Raises ``JobNotFound``, ``JobStillActive``, ``NothingToResume`` (it succeeded),
    ``UnknownJobType`` or ``JobParamsError``; nothing is recorded then. Like
    ``start_direct``, an active job holding the dedupe key comes back ``deduplicated``.
    """
    original = get_job(job_id, *_REPEATED_FIELDS)
    if original.status in ACTIVE_STATUSES:
        raise JobStillActive(original)
    if original.status not in RESUMABLE_STATUSES:
        raise NothingToResume(original)
    now = timezone.now()
    return _insert_direct(_repeat(original, trigger=trigger, now=now), now=now)


def retry_candidates(*, filters: HistoryFilters) -> QuerySet[JobRun]:
    """The failed runs ``filters`` select that were not retried yet, newest first: what
    "retry failed" retries (pressing it twice retries nothing twice)."""
    retried = JobRun.objects.filter(retry_of=OuterRef("pk"))
    return (
        filters.apply(JobRun.objects.filter(status=JobStatus.FAILED))
        .filter(~Exists(retried))
        .order_by("-id")
    )


def cancel_candidates(*, filters: HistoryFilters) -> QuerySet[JobRun]:
    """The queued runs ``filters`` select, newest first: what "cancel queued" cancels."""
    return filters.apply(JobRun.objects.filter(status=JobStatus.QUEUED)).order_by("-id")


@dataclass(frozen=True)
class BulkRetryResult:
    queued: int
    # Their type's dedupe key was held by an active job: that job stands for them.
    deduplicated: int
    # Their type is gone or their params no longer valid.
    skipped: int
    # More candidates were left for another request (``BULK_LIMIT``).
    limited: bool


def bulk_retry_failed(
    *, filters: HistoryFilters, trigger: Trigger = Trigger.WEB, limit: int = BULK_LIMIT
) -> BulkRetryResult:
    """Retry the failed runs ``filters`` select that were not retried yet, as ``retry_job``
    would each, newest first, at most ``limit``: one transaction, inserted as
    ``enqueue_many`` does, one ticket."""
    originals = list(retry_candidates(filters=filters).only(*_REPEATED_FIELDS)[: limit + 1])
    limited = len(originals) > limit
    now = timezone.now()
    runs: list[JobRun] = []
    skipped = 0
    for original in originals[:limit]:
        try:
            run = _repeat(original, trigger=trigger, now=now)
        except JobError:
            skipped += 1
            continue
        runs.append(run)
    with transaction.atomic():
        deduplicated = sum(run.deduplicated for run in _queue_all(runs))
    queued = len(runs) - deduplicated
    return BulkRetryResult(
        queued=queued, deduplicated=deduplicated, skipped=skipped, limited=limited
    )


@dataclass(frozen=True)
class BulkCancelResult:
    cancelled: int
    limited: bool


def bulk_cancel_queued(*, filters: HistoryFilters, limit: int = BULK_LIMIT) -> BulkCancelResult:
    """Cancel the queued runs ``filters`` select, newest first, at most ``limit``: one
    conditional UPDATE (a run claimed meanwhile is left to run)."""
    now = timezone.now()
    chosen = cancel_candidates(filters=filters).values("id")[:limit]
    cancelled = JobRun.objects.filter(id__in=chosen, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED,
        cancel_requested_at=now,
        finished_at=now,
        error=CANCELLED_BEFORE_START,
    )
    return BulkCancelResult(
        cancelled=cancelled,
        limited=cancelled >= limit and cancel_candidates(filters=filters).exists(),
    )
