"""The runner: executes one job and records how it ended.

It serves both the queue (a ticket from Django-Q2 calls ``run_next``) and the direct routes
(``run_direct`` from a management command). The job body never runs inside a transaction:
on SQLite that would hold the write lock for the whole job.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder

from jobs import live, registry, services
from jobs.cancel import CancelEvent, JobCancelled
from jobs.models import JobRun, JobStatus, Trigger
from jobs.progress import Progress, TeeProgress
from jobs.tracker import MESSAGE_MAX, JobTracker

if TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger(__name__)

ERROR_MAX = 500


def run_next() -> int | None:
    """Claim the best runnable job and run it; the id of the job run, or None."""
    job = services.claim_next()
    if job is None:
        return None
    execute(job)
    return job.pk


def run_direct(
    job_type: str,
    params: Mapping[str, Any] | None = None,
    *,
    trigger: Trigger = Trigger.CLI,
    listener: Progress | None = None,
    token: CancelEvent | None = None,
) -> JobRun:
    """Run a job in this process (CLI, cron), recorded as a ``job_runs`` row like any other."""
    job = services.start_direct(job_type, params, trigger=trigger)
    return execute(job, listener=listener, token=token)


def one_line(exc: BaseException) -> str:
    """A message a person can read in a table cell: the first line, the type when it helps."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, registry.JobError) and text:
        line = text
    else:
        line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line[:ERROR_MAX]


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif not isinstance(value, (dict, list, str, int, float, bool)):
        value = {"value": str(value)}
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def execute(
    job: JobRun, *, listener: Progress | None = None, token: CancelEvent | None = None
) -> JobRun:
    """Run a claimed (running) job to its end state and return the updated row."""
    token = token or CancelEvent()
    try:
        spec = registry.get(job.job_type)
    except registry.UnknownJobType as exc:
        services.finish(job.pk, JobStatus.FAILED, error=one_line(exc))
        return JobRun.objects.get(pk=job.pk)

    tracker = JobTracker(job.pk, token=token)
    progress: Progress = TeeProgress(tracker, listener) if listener is not None else tracker
    status, result, error = JobStatus.FAILED, None, ""
    logger.info("job %s (%s) started, attempt %s", job.pk, job.job_type, job.attempt)
    with tracker:
        try:
            value = spec.func(**job.params, progress=progress, cancel=token)
        except JobCancelled as exc:
            reason = str(exc)
            status, error = JobStatus.CANCELLED, "" if reason == "Cancelled" else reason[:ERROR_MAX]
        except Exception as exc:
            logger.exception("job %s (%s) failed", job.pk, job.job_type)
            status, error = JobStatus.FAILED, one_line(exc)
        except BaseException as exc:
            # The cluster's timeout (a SystemExit) or an interpreter shutdown: record it, let
            # it propagate.
            tracker.__exit__(None, None, None)
            services.finish(job.pk, JobStatus.FAILED, error=one_line(exc) or "Interrupted")
            live.clear(job.pk)
            raise
        else:
            status, result = JobStatus.SUCCESS, _jsonable(value)
    snap = tracker.snapshot()
    services.finish(
        job.pk,
        status,
        result=result,
        error=error,
        progress={
            "progress_current": snap.current,
            "progress_total": snap.total,
            "progress_message": (snap.message if status != JobStatus.CANCELLED else "Cancelled")[
                :MESSAGE_MAX
            ],
            "source_counts": snap.source_counts,
        },
    )
    live.clear(job.pk)
    logger.info("job %s (%s) ended %s", job.pk, job.job_type, status)
    return JobRun.objects.get(pk=job.pk)
