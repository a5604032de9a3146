"""Putting runs in the queue (``enqueue``, ``enqueue_each``, ``enqueue_many``) and recording
the runs a CLI or cron process performs itself (``start_direct``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs import control, registry, tickets
from jobs.claim import worker_name
from jobs.models import ACTIVE_STATUSES, JobRun, JobStatus, Priority, Trigger
from jobs.registry import JobError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime


_DEFAULT_PRIORITY = {
    Trigger.WEB: Priority.MANUAL,
    Trigger.CLI: Priority.MANUAL,
    Trigger.SCHEDULE: Priority.SCHEDULED,
}


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
