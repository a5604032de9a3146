"""Why a job stopped is a type, raised from every wait and recorded by the runner (issue 11)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connections
from django.utils import timezone

from enrichment.fakes import FaultPlan
from enrichment.http import ProviderSession
from enrichment.ratelimit import RateLimiter
from jobs import runner
from jobs.cancel import CancelEvent, JobCancelled, JobLost, JobStopped, WorkerShutdown, pause
from jobs.models import JobRun, JobStatus
from tests.factories import JobRunFactory
from tests.fakes import JsonProvider


def _stopped_soon(token: CancelEvent, reason: JobStopped, after: float = 0.2) -> None:
    threading.Timer(after, token.stop, args=(reason,)).start()


def test_the_first_reason_wins_and_each_raise_is_a_fresh_exception():
    token = CancelEvent()
    token.stop(WorkerShutdown())
    token.cancel()
    with pytest.raises(WorkerShutdown) as first:
        token.raise_if_cancelled()
    with pytest.raises(WorkerShutdown) as second:
        token.raise_if_cancelled()
    assert first.value is not second.value
    assert isinstance(first.value, JobStopped) and not isinstance(first.value, JobCancelled)


@pytest.mark.parametrize("reason", [WorkerShutdown(), JobCancelled(), JobLost()])
def test_a_pause_ends_at_once_with_the_token_s_reason(reason):
    token = CancelEvent()
    _stopped_soon(token, reason)
    started = time.monotonic()
    with pytest.raises(type(reason)):
        pause(token, 30)
    assert time.monotonic() - started < 2


def test_a_rate_limit_wait_raises_a_shutdown_not_a_cancel():
    limiter = RateLimiter(f"test-{uuid.uuid4().hex[:8]}", rate=0.2)
    token = CancelEvent()
    limiter.acquire(token)  # free
    _stopped_soon(token, WorkerShutdown())
    with pytest.raises(WorkerShutdown):
        limiter.acquire(token)  # would wait about 5 s


@pytest.mark.parametrize(
    # Every answer a 500 (the client backs off) or a 429 asking for 30 s.
    "plan",
    [FaultPlan(rate_500=1.0), FaultPlan(rate_429=1.0, retry_after=30)],
    ids=str,
)
def test_a_backoff_or_retry_after_raises_a_shutdown_not_a_cancel(plan):
    with JsonProvider(faults=plan) as server:
        token = CancelEvent()
        session = ProviderSession(
            provider="Busy", timeout=5, max_attempts=10, cancel=token, backoff_base=10
        )
        _stopped_soon(token, WorkerShutdown(), after=0.3)
        started = time.monotonic()
        with pytest.raises(WorkerShutdown):
            session.get_json(server.url + "/x")
        assert time.monotonic() - started < 3
        assert server.request_count() == 1  # stopped in the first wait


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cancel_requested", [False, True])
def test_a_shutdown_requeues_without_using_an_attempt_unless_a_cancel_was_asked(
    cancel_requested,
):
    now = timezone.now()
    job = JobRunFactory(
        status=JobStatus.RUNNING,
        attempt=1,
        max_attempts=3,
        started_at=now,
        heartbeat_at=now,
        params={"steps": 10_000, "step_ms": 20},
        cancel_requested_at=now if cancel_requested else None,
    )
    stopping = threading.Event()
    threading.Timer(0.3, stopping.set).start()
    after = runner.execute(job, shutdown_check=stopping.is_set)
    if cancel_requested:
        # The cancel reaches the job first or the shutdown does; either way it ends.
        assert after.status == JobStatus.CANCELLED
    else:
        assert (after.status, after.attempt) == (JobStatus.QUEUED, 0)
        assert after.progress_message == "Requeued: its worker shut down"
        assert after.error == ""


@pytest.mark.django_db(transaction=True)
def test_a_lost_run_writes_nothing():
    now = timezone.now()
    job = JobRunFactory(
        status=JobStatus.RUNNING,
        attempt=1,
        started_at=now,
        heartbeat_at=now,
        params={"steps": 10_000, "step_ms": 20},
    )

    def take_over() -> None:  # as a rescue and a re-claim elsewhere would
        JobRun.objects.filter(pk=job.pk).update(attempt=2)
        connections.close_all()

    threading.Timer(0.3, take_over).start()
    after = runner.execute(job)
    assert (after.status, after.attempt, after.finished_at) == (JobStatus.RUNNING, 2, None)
