"""The states of a running attempt: its end, a transient failure's retry later, a shutdown's
requeue; when the next queued run is due."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs import control, maintenance, tickets
from jobs.checkpoint import Checkpoint
from jobs.models import JobRun, JobStatus, owned_attempt

logger = logging.getLogger("jobs.services")


ERROR_FIELD_MAX = 1000


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
