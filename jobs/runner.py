"""The runner: executes one job and records how it ended.

It serves both the queue (a ticket from Django-Q2 calls ``run_next``) and the direct routes
(``run_direct`` from a management command). The job body never runs inside a transaction:
on SQLite that would hold the write lock for the whole job.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from jobs import joblog, live, maintenance, registry, services, tickets
from jobs.cancel import CancelEvent, JobCancelled, JobLost, JobStopped, WorkerShutdown
from jobs.cluster import cluster_is_stopping
from jobs.context import JobContext, Usage, bound
from jobs.models import JobRun, JobStatus, Trigger
from jobs.progress import Progress, TeeProgress
from jobs.results import readable_error
from jobs.retry import TransientError, retry_delay
from jobs.tracker import MESSAGE_MAX, JobTracker

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)

ERROR_MAX = 500


DRAIN_SECONDS = 10.0


def run_next(
    *,
    wait_for_due: float = 30.0,
    drain_for: float = DRAIN_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    stopping: Callable[[], bool] = cluster_is_stopping,
) -> int:
    """A ticket's work: claim the best runnable job and run it, then the next; how many ran.

    The ticket drains the queue: each job's end is recorded in the same transaction that
    claims the next due job (one write instead of two, and no broker round trip per job).
    It stops when nothing is due, when the cluster begins to stop, or after ``drain_for``
    seconds — then it leaves a ticket behind, so Django-Q2's per-task timeout and worker
    recycling keep their meaning and scheduled tasks get their turn.

    When nothing is due but a job is due within ``wait_for_due`` seconds (a retry in its
    backoff), the ticket waits for it — claiming anything that becomes runnable meanwhile —
    so short backoffs are honoured to the second instead of to the next maintenance pass.

    A stopping cluster claims nothing: ``stopping`` is asked afresh before every claim (a
    job may have run for seconds since the last answer). Django-Q2 hands its workers the
    tickets its pusher took before it stopped; such a ticket claims nothing and tops the
    broker up to what the due jobs need, for the next cluster or another one.
    """
    tickets.clear_waiting()
    halted = stopping()
    job = None if halted else services.claim_next()
    if job is None and not halted:
        job = _wait_and_claim(wait_for_due, stopping)
    if job is not None and services.next_due_in() == 0:
        # Jobs enqueued while this ticket waited counted on it; it runs one at a time, so
        # another ticket goes to whichever worker is free.
        tickets.push_unless_waiting()
    deadline = clock() + drain_for
    timed_out = False

    def go_on() -> bool:
        nonlocal halted, timed_out
        timed_out = clock() >= deadline
        halted = not timed_out and stopping()
        return not (timed_out or halted)

    ran = 0
    while job is not None:
        job = _run(job, shutdown_check=stopping, claim_next=go_on)
        ran += 1
        if not (timed_out or halted):
            _reticket_now_and_then()
    # A job given back for a shutdown, or a wait for a retry, did not ask go_on().
    halted = halted or stopping()
    if halted:
        # As much as the due jobs need beyond the tickets waiting (one per worker at most):
        # not one more per ticket this stopping cluster still gets from its pusher.
        maintenance.reticket()
    elif timed_out:
        due_in = services.next_due_in()
        if due_in is not None and due_in <= wait_for_due:
            tickets.push_unless_waiting()
    return ran


_last_reticket = float("-inf")
RETICKET_EVERY = 5.0


def _reticket_now_and_then() -> None:
    """Heal lost tickets (a flushed or restarted broker) within seconds while work flows,
    instead of at the next maintenance pass; at most every few seconds per worker."""
    global _last_reticket
    now = time.monotonic()
    if now - _last_reticket < RETICKET_EVERY:
        return
    _last_reticket = now
    try:
        maintenance.reticket()
    except Exception:
        logger.warning("re-ticketing after a job failed", exc_info=True)


def _wait_and_claim(limit: float, stopping: Callable[[], bool]) -> JobRun | None:
    due_in = services.next_due_in()
    if due_in is None or due_in > limit:
        return None
    deadline = time.monotonic() + due_in + 1.0
    idle = threading.Event()
    while time.monotonic() < deadline:
        idle.wait(0.1)
        if stopping():
            return None
        job = services.claim_next()
        if job is not None:
            return job
    return None


def run_direct(
    job_type: str,
    params: Mapping[str, Any] | None = None,
    *,
    trigger: Trigger = Trigger.CLI,
    listener: Progress | None = None,
    token: CancelEvent | None = None,
) -> JobRun:
    """Run a job in this process (CLI, cron), recorded as a ``job_runs`` row like any other.

    When an active job holds the same dedupe key, that job is returned untouched (with
    ``deduplicated=True``): exactly one process runs a given run, and it is not this one.
    """
    job = services.start_direct(job_type, params, trigger=trigger)
    if job.deduplicated:
        return job
    return execute(job, listener=listener, token=token)


def one_line(exc: BaseException) -> str:
    """A sentence a person can read in a table cell: the message's first line without the
    exception's class name (the traceback in the log names it)."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    if isinstance(exc, KeyError) and line:
        line = f"missing key {line}"
    elif not line:
        line = _WORDLESS.get(type(exc), "" if isinstance(exc, Exception) else "Interrupted")
    return readable_error(line)[:ERROR_MAX]


# What an exception without a message says (its class name was the message until issue 16).
_WORDLESS: dict[type[BaseException], str] = {
    TimeoutError: "Timed out",
    MemoryError: "Out of memory",
    ConnectionError: "The connection failed",
}


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif not isinstance(value, (dict, list, str, int, float, bool)):
        value = {"value": str(value)}
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _is_transient(spec: registry.JobType, exc: Exception) -> bool:
    return isinstance(exc, (TransientError, *spec.transient_errors))


def execute(
    job: JobRun,
    *,
    listener: Progress | None = None,
    token: CancelEvent | None = None,
    shutdown_check: Callable[[], bool] | None = None,
    refresh: bool = True,
) -> JobRun:
    """Run a claimed (running) job to its end, a retry, or back to the queue.

    Ends: success (with the service's result), cancelled (a person asked), failed (one line
    for people, the traceback in the log); a transient failure with attempts left goes back
    to the queue after a backoff; a cluster shutdown puts the job back at once.
    """
    _run(job, listener=listener, token=token, shutdown_check=shutdown_check)
    return JobRun.objects.get(pk=job.pk) if refresh else job


def _run(
    job: JobRun,
    *,
    listener: Progress | None = None,
    token: CancelEvent | None = None,
    shutdown_check: Callable[[], bool] | None = None,
    claim_next: Callable[[], bool] | None = None,
) -> JobRun | None:
    """``execute``; when ``claim_next()`` says so after the job, also claims the next due
    job in the transaction that records this one's end, and returns it."""
    token = token or CancelEvent()
    try:
        spec = registry.get(job.job_type)
    except registry.UnknownJobType as exc:
        with transaction.atomic():
            services.finish(job, JobStatus.FAILED, error=one_line(exc))
            return services.claim_next() if claim_next is not None and claim_next() else None

    tracker = JobTracker(
        job.pk,
        token=token,
        attempt=job.attempt,
        started_at=job.started_at,
        shutdown_check=shutdown_check,
    )
    progress: Progress = TeeProgress(tracker, listener) if listener is not None else tracker
    # The job's own log and usage counters (issue 15): its threads fill them, the reporter
    # and the end-state transaction below store them.
    context = JobContext(
        job.pk,
        attempt=job.attempt,
        log=joblog.LogBuffer(job.pk, attempt=job.attempt),
        usage=Usage(job.usage),
    )
    tracker.log = context.log
    value: Any = None
    raised: BaseException | None = None
    logger.info("job %s (%s) started, attempt %s", job.pk, job.job_type, job.attempt)
    job_kwargs = {"job_id": job.pk} if spec.takes_job_id else {}
    with tracker, bound(context):
        try:
            value = spec.func(**job.params, **job_kwargs, progress=progress, cancel=token)
        except BaseException as exc:
            raised = exc
    # The reporter has stopped: from here on only this thread writes the row.
    after: JobRun | None = None
    # Asked now, after the job, outside the transaction (it reads the cluster's status):
    # not after a timeout or an interpreter shutdown, this process is going away.
    claim = (
        claim_next is not None
        and (raised is None or isinstance(raised, Exception))
        and not isinstance(raised, WorkerShutdown)
        and claim_next()
    )
    try:
        with transaction.atomic():
            services.commit_without_waiting()
            # The outcome's warning or traceback joins the job's log; "ended" lines do not.
            with bound(context, min_level=logging.WARNING):
                _record_outcome(job, spec, tracker, value, raised, usage=context.usage.as_json())
            joblog.store_final(context.log)
            if claim:
                after = services.claim_next()
    finally:
        # A job shorter than a reporter tick published nothing and saw no flag: no round trip.
        if tracker.published or token.cancelled:
            live.clear(job.pk)
    if raised is not None and not isinstance(raised, Exception):
        # The cluster's timeout (a SystemExit) or an interpreter shutdown: recorded; go on.
        raise raised
    return after


def _record_outcome(
    job: JobRun,
    spec: registry.JobType,
    tracker: JobTracker,
    value: Any,
    raised: BaseException | None,
    *,
    usage: dict[str, Any],
) -> None:
    if isinstance(raised, JobLost):
        # Its row has moved on (rescued, run elsewhere): this attempt writes nothing.
        logger.warning("job %s (%s) attempt %s lost its row", job.pk, job.job_type, job.attempt)
        return
    if (
        isinstance(raised, WorkerShutdown)
        and not job.direct
        and services.requeue_interrupted(job, reason="Requeued: its worker shut down", usage=usage)
    ):
        logger.info("job %s (%s) requeued: its worker is shutting down", job.pk, job.job_type)
        return
    if (
        isinstance(raised, Exception)
        and _is_transient(spec, raised)
        and not job.direct
        and job.attempt < job.max_attempts
    ):
        delay = retry_delay(raised, job.attempt)
        logger.warning(
            "job %s (%s) attempt %s failed, retrying in %.1fs: %s",
            job.pk,
            job.job_type,
            job.attempt,
            delay,
            one_line(raised),
        )
        services.retry_later(job, delay=delay, error=one_line(raised), usage=usage)
        return
    result, error = None, ""
    if raised is None:
        status, result = JobStatus.SUCCESS, _jsonable(value)
    elif isinstance(raised, JobStopped):
        # A person's cancel — or a shutdown that found a cancel request on the row.
        reason = str(raised) if isinstance(raised, JobCancelled) else "Cancelled"
        status, error = JobStatus.CANCELLED, "" if reason == "Cancelled" else reason[:ERROR_MAX]
    else:
        if isinstance(raised, Exception):
            logger.error("job %s (%s) failed", job.pk, job.job_type, exc_info=raised)
        status, error = JobStatus.FAILED, one_line(raised)
    snap = tracker.snapshot()
    services.finish(
        job,
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
            "usage": usage,
        },
    )
    logger.info("job %s (%s) ended %s", job.pk, job.job_type, status)
