"""Services that change jobs. Every state change is one conditional UPDATE.

enqueue ─▶ queued ─claim_next─▶ running ─finish─▶ success | failed | cancelled
           queued ─cancel_job─▶ cancelled
start_direct ─▶ running (CLI / cron: no queue, no worker slot)
retry_job(finished run) ─▶ a new queued run, ``retry_of`` the finished one
resume_direct(failed / cancelled run) ─▶ a new direct run from its checkpoint

The package by concern: ``queueing``, ``running``, ``cancelling``, ``retrying``; the claim is
``jobs.claim``. Callers import from ``jobs.services``.
"""

from __future__ import annotations

from jobs.claim import claim_next, worker_name
from jobs.selectors import JobNotFound
from jobs.services.cancelling import (
    CANCELLED_BEFORE_START,
    JobAlreadyFinished,
    cancel_job,
    cancel_running,
)
from jobs.services.queueing import JobRequest, enqueue, enqueue_each, enqueue_many, start_direct
from jobs.services.retrying import (
    BULK_LIMIT,
    RESUMABLE_STATUSES,
    BulkCancelResult,
    BulkRetryResult,
    JobStillActive,
    NothingToResume,
    bulk_cancel_queued,
    bulk_retry_failed,
    cancel_candidates,
    resume_direct,
    retry_candidates,
    retry_job,
)
from jobs.services.running import (
    ERROR_FIELD_MAX,
    finish,
    next_due_in,
    requeue_interrupted,
    retry_later,
)

__all__ = [
    "BULK_LIMIT",
    "CANCELLED_BEFORE_START",
    "ERROR_FIELD_MAX",
    "RESUMABLE_STATUSES",
    "BulkCancelResult",
    "BulkRetryResult",
    "JobAlreadyFinished",
    "JobNotFound",
    "JobRequest",
    "JobStillActive",
    "NothingToResume",
    "bulk_cancel_queued",
    "bulk_retry_failed",
    "cancel_candidates",
    "cancel_job",
    "cancel_running",
    "claim_next",
    "enqueue",
    "enqueue_each",
    "enqueue_many",
    "finish",
    "next_due_in",
    "requeue_interrupted",
    "resume_direct",
    "retry_candidates",
    "retry_job",
    "retry_later",
    "start_direct",
    "worker_name",
]
