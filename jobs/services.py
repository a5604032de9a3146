"""Services that change jobs. Every state change is one conditional UPDATE.

enqueue ─▶ queued ─claim_next─▶ running ─finish─▶ success | failed | cancelled
           queued ─cancel_job─▶ cancelled
start_direct ─▶ running (CLI / cron: no queue, no worker slot)
retry_job(finished run) ─▶ a new queued run, ``retry_of`` the finished one
resume_direct(failed / cancelled run) ─▶ a new direct run from its checkpoint
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from jobs import control, live, maintenance, registry, tickets
from jobs.checkpoint import Checkpoint, carried_over

# The claim lives in its own module; callers know it as ``services.claim_next``.
from jobs.claim import claim_next as claim_next
from jobs.claim import worker_name as worker_name
from jobs.models import ACTIVE_STATUSES, JobRun, JobStatus, Priority, Trigger, owned_attempt
from jobs.registry import JobError
from jobs.selectors import JobNotFound as JobNotFound
from jobs.selectors import get_job

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from django.db.models import QuerySet

    from jobs.queries import HistoryFilters

logger = logging.getLogger(__name__)

ERROR_FIELD_MAX = 1000

_DEFAULT_PRIORITY = {
    Trigger.WEB: Priority.MANUAL,
    Trigger.CLI: Priority.MANUAL,
    Trigger.SCHEDULE: Priority.SCHEDULED,
}


class JobAlreadyFinished(JobError):
    def __init__(self, job: JobRun) -> None:
        super().__init__(f"job {job.pk} has already finished ({job.status})")
        self.job = job


class JobStillActive(JobError):
    def __init__(self, job: JobRun) -> None:
        super().__init__(
            f"job {job.pk} is still {job.status}: retry it once it has finished, or cancel it"
        )
        self.job = job


def _priority_for(spec: registry.JobType, trigger: Trigger, priority: int | None) -> int:
    if priority is not None:
        if priority not in Priority.values:
            raise JobError(f"priority must be one of {sorted(Priority.values)}, not {priority}")
        return priority
    default = _DEFAULT_PRIORITY[trigger]
    # A job type may ask to wait behind others (a background refresh), never to jump ahead.
    if spec.priority is not None:
        return max(default, spec.priority)
    return default


def _new_run(
    spec: registry.JobType,
    params: dict[str, Any],
    *,
    trigger: Trigger,
    priority: int,
    now: datetime,
    run_after: datetime | None = None,
) -> JobRun:
    return JobRun(
        job_type=spec.name,
        window=spec.window_for(params),
        params=params,
        trigger=trigger,
        priority=priority,
        max_attempts=spec.max_attempts,
        run_after=run_after or now,
        queued_at=now,
        dedupe_key=spec.dedupe_key_for(params),
    )


def _insert(job: JobRun) -> JobRun:
    """Insert ``job``; if its dedupe key is taken by an active job, return that job instead."""
    if job.dedupe_key is None:
        # Nothing to recover from: no savepoint (a round trip each way on PostgreSQL).
        job.save(force_insert=True)
        return job
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        existing = JobRun.objects.filter(
            dedupe_key=job.dedupe_key, status__in=ACTIVE_STATUSES
        ).first()
        if existing is None:  # it finished in between: try once more
            with transaction.atomic():
                job.save()
            return job
        existing.deduplicated = True
        return existing
    return job


def enqueue(
    *,
    job_type: str,
    params: Mapping[str, Any] | None = None,
    trigger: Trigger = Trigger.WEB,
    priority: int | None = None,
    run_after: datetime | None = None,
) -> JobRun:
    """Validate and queue a job; a worker runs it. Returns at once.

    Raises ``UnknownJobType`` or ``JobParamsError`` (nothing recorded). When the type allows
    one active job per dedupe key and one is queued or running, returns that job with
    ``deduplicated=True``. The ticket is pushed when the surrounding transaction commits.
    """
    spec = registry.get(job_type)
    cleaned = spec.validate(params)
    now = timezone.now()
    return _queue(
        _new_run(
            spec,
            cleaned,
            trigger=trigger,
            priority=_priority_for(spec, trigger, priority),
            now=now,
            run_after=run_after,
        )
    )


def enqueue_each(
    *,
    job_type: str,
    params: Mapping[str, Any] | None = None,
    trigger: Trigger = Trigger.WEB,
    priority: int | None = None,
) -> list[JobRun]:
    """``enqueue`` for params that may stand for several runs (``JobType.expand``: a
    playlist of all windows is one job per window), all queued in one transaction or none."""
    spec = registry.get(job_type)
    return enqueue_many(
        requests=[
            JobRequest(job_type, cleaned, priority=priority)
            for cleaned in spec.validate_each(params)
        ],
        trigger=trigger,
    )


@dataclass(frozen=True)
class JobRequest:
    """One job for ``enqueue_many``: what ``enqueue`` takes, but the trigger."""

    job_type: str
    params: Mapping[str, Any] | None = None
    priority: int | None = None
    run_after: datetime | None = None


def enqueue_many(*, requests: Sequence[JobRequest], trigger: Trigger = Trigger.WEB) -> list[JobRun]:
    """``enqueue`` for a burst: every request validated first (the first bad one raises,
    nothing recorded), then one transaction — a multi-row INSERT for the runs without a
    dedupe key, one by one for those with one — and one ticket after the commit (tickets
    drain: the first that runs pushes another while due jobs remain). Returns the runs in
    the order asked, a deduplicated one being the active job that holds its key."""
    now = timezone.now()
    runs = []
    for request in requests:
        spec = registry.get(request.job_type)
        runs.append(
            _new_run(
                spec,
                spec.validate(request.params),
                trigger=trigger,
                priority=_priority_for(spec, trigger, request.priority),
                now=now,
                run_after=request.run_after,
            )
        )
    with transaction.atomic():
        return _queue_all(runs)


def _queue_all(runs: list[JobRun]) -> list[JobRun]:
    """Insert ``runs`` in their order (one statement per stretch without a dedupe key) and
    push one ticket on commit if any was queued; call inside a transaction."""
    queued: list[JobRun] = []
    plain: list[JobRun] = []
    for run in [*runs, None]:
        if run is not None and run.dedupe_key is None:
            plain.append(run)
            continue
        if plain:
            queued.extend(JobRun.objects.bulk_create(plain))
            plain = []
        if run is not None:
            queued.append(_insert(run))
    if not all(run.deduplicated for run in queued):
        transaction.on_commit(tickets.push_unless_waiting)
    return queued


def _queue(job: JobRun) -> JobRun:
    """Insert a new queued run (or return the active one holding its dedupe key) and push a
    ticket when the transaction commits."""
    job = _insert(job)
    if not job.deduplicated:
        transaction.on_commit(tickets.push_unless_waiting)
    return job


def start_direct(
    *, job_type: str, params: Mapping[str, Any] | None = None, trigger: Trigger = Trigger.CLI
) -> JobRun:
    """Record a run that the calling process performs itself (CLI, cron): inserted running.

    If an active job holds the same dedupe key, nothing is inserted and that job comes back
    with ``deduplicated=True``: the caller must not run it (it is queued for, or running
    in, another process) — it may follow it or skip.
    """
    spec = registry.get(job_type)
    cleaned = spec.validate(params)
    now = timezone.now()
    job = _new_run(
        spec, cleaned, trigger=trigger, priority=_priority_for(spec, trigger, None), now=now
    )
    return _insert_direct(job, now=now)


def _insert_direct(job: JobRun, *, now: datetime) -> JobRun:
    job.direct = True
    job.status = JobStatus.RUNNING
    job.attempt = 1
    job.started_at = now
    job.heartbeat_at = now
    job.worker = worker_name()
    with transaction.atomic():
        job = _insert(job)
        if not job.deduplicated:
            control.take_direct(job.job_type)
    return job


def finish(
    *,
    job: JobRun,
    status: JobStatus,
    result: Any = None,
    error: str = "",
    progress: dict[str, Any] | None = None,
) -> bool:
    """Record the end of a running job; False if this attempt no longer owned it."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "status": status,
        "finished_at": now,
        "heartbeat_at": now,
        "result": result,
        "error": error,
        "run_after": now,
    }
    fields.update(progress or {})
    updated = owned_attempt(job.pk, job.attempt).update(**fields)
    if updated == 1:
        control.release(job)
    else:
        logger.warning(
            "job %s attempt %s no longer owned its row at %s", job.pk, job.attempt, status
        )
    return updated == 1


def _kept(usage: dict[str, Any] | None, checkpoint: dict[str, Any] | None) -> dict[str, Any]:
    """What an attempt leaves for the next one: its usage, its checkpoint (and the count it
    stands for, where the next attempt's progress resumes)."""
    kept: dict[str, Any] = {"usage": usage} if usage is not None else {}
    if checkpoint is not None:
        kept["checkpoint"] = checkpoint
    return kept


def retry_later(
    *,
    job: JobRun,
    delay: float,
    error: str,
    usage: dict[str, Any] | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> bool:
    """Put a job whose attempt failed transiently back in the queue, due in ``delay`` s
    (``usage``: what the run used so far, ``checkpoint``: where the next attempt goes on)."""
    now = timezone.now()
    run_after = now + timedelta(seconds=delay)
    kept = _kept(usage, checkpoint)
    updated = owned_attempt(job.pk, job.attempt).update(
        **kept,
        status=JobStatus.QUEUED,
        run_after=run_after,
        worker="",
        error=(
            f"Attempt {job.attempt} of {job.max_attempts} failed: {error} — "
            f"next attempt at {run_after:%H:%M:%S} UTC"
        )[:ERROR_FIELD_MAX],
    )
    if updated == 1:
        control.release(job)
        # After the commit: a ticket that ran before it would find nothing and end.
        transaction.on_commit(tickets.push)
    return updated == 1


def requeue_interrupted(
    *,
    job: JobRun,
    reason: str,
    usage: dict[str, Any] | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> bool:
    """Give back a job whose worker is shutting down: it runs again from ``checkpoint`` (or
    the start) and the interrupted attempt does not count (what it used of external
    services does). False if this attempt no longer owns it, or if a person asked to cancel
    it meanwhile (then it is to end ``cancelled``, not run again).

    Tickets are topped up to what the due jobs need (``maintenance.reticket``), not one
    more per job given back: the stopping cluster's pusher has stopped or is about to, and
    a ticket its workers still get is given back the same way (``runner.run_next``), so
    the next cluster — or another one — runs the job and no surplus is left behind.
    """
    saved = Checkpoint.from_json(checkpoint)
    updated = (
        owned_attempt(job.pk, job.attempt)
        .filter(cancel_requested_at__isnull=True)
        .update(
            **_kept(usage, checkpoint),
            status=JobStatus.QUEUED,
            run_after=timezone.now(),
            attempt=F("attempt") - 1,
            worker="",
            progress_current=saved.current if saved is not None else 0,
            progress_message=reason[:500],
        )
    )
    if updated == 1:
        control.release(job)
        transaction.on_commit(maintenance.reticket)
    return updated == 1


def next_due_in(*, now: datetime | None = None) -> float | None:
    """Seconds until the earliest queued job becomes runnable (0: one is due; None: none).
    Runs a pause or a full lane holds back do not count: a ticket does not wait for them."""
    now = now or timezone.now()
    earliest = (
        control.runnable(JobRun.objects.filter(status=JobStatus.QUEUED, direct=False))
        .order_by("run_after")
        .values_list("run_after", flat=True)
        .first()
    )
    if earliest is None:
        return None
    return max(0.0, (earliest - now).total_seconds())


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
