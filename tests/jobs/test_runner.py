"""The job lifecycle on a real cluster (2 workers), on whichever mode the suite runs in."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pytest
from django.db import transaction

from jobs import live, services
from jobs.models import FINISHED_STATUSES, JobRun, JobStatus, Priority
from tests.cluster import max_overlap, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("drained")]


def _status(job_id: int) -> str:
    return JobRun.objects.values_list("status", flat=True).get(pk=job_id)


def _wait_status(job_id: int, *statuses: str, timeout: float = 20) -> JobRun:
    wait_for(lambda: _status(job_id) in statuses, timeout=timeout, what=f"job {job_id} {statuses}")
    return JobRun.objects.get(pk=job_id)


def test_six_jobs_run_two_at_a_time_and_all_succeed():
    with transaction.atomic():  # all six are waiting before any worker looks
        ids = [
            services.enqueue(job_type="test-steps", params={"steps": 5, "step_ms": 40}).pk
            for _ in range(5)
        ]
        urgent = services.enqueue(
            job_type="test-steps", params={"steps": 5, "step_ms": 40}, priority=Priority.URGENT
        ).pk
    for job_id in [*ids, urgent]:
        _wait_status(job_id, JobStatus.SUCCESS, JobStatus.FAILED)
    jobs = list(JobRun.objects.filter(pk__in=[*ids, urgent]))
    assert {j.status for j in jobs} == {JobStatus.SUCCESS}
    assert max_overlap(jobs) <= 2
    by_start = [j.pk for j in sorted(jobs, key=lambda j: j.started_at)]
    # Two free slots take the first two at once (urgent and ids[0], in either order);
    # the rest follow in enqueue order — up to the race of two workers claiming at the same
    # moment (their jobs are equally long), whose start stamps may come in either order.
    assert set(by_start[:2]) == {urgent, ids[0]}
    started = {j.pk: j.started_at for j in jobs}
    race = timedelta(milliseconds=100)  # a job here takes 200 ms
    for earlier, later in itertools.pairwise(ids):
        assert started[later] >= started[earlier] - race, (earlier, later)


def test_with_one_slot_free_priority_then_fifo_decides_the_order():
    hold = services.enqueue(job_type="test-steps", params={"steps": 10_000, "step_ms": 50}).pk
    short = services.enqueue(job_type="test-steps", params={"steps": 1, "step_ms": 300}).pk
    _wait_status(hold, JobStatus.RUNNING)
    _wait_status(short, JobStatus.RUNNING)
    with transaction.atomic():
        ids = [
            services.enqueue(job_type="test-steps", params={"steps": 1, "step_ms": 10}).pk
            for _ in range(4)
        ]
        urgent = services.enqueue(
            job_type="test-steps", params={"steps": 1, "step_ms": 10}, priority=Priority.URGENT
        ).pk
    for job_id in [*ids, urgent]:
        _wait_status(job_id, JobStatus.SUCCESS)
    services.cancel_job(job_id=hold)
    jobs = JobRun.objects.filter(pk__in=[*ids, urgent]).order_by("started_at")
    assert [j.pk for j in jobs] == [urgent, *ids]


def test_cancelling_a_running_job_frees_its_slot_and_a_queued_one_never_starts():
    long = {"steps": 1000, "step_ms": 50}
    with transaction.atomic():
        a = services.enqueue(job_type="test-steps", params=long).pk
        b = services.enqueue(job_type="test-steps", params=long).pk
        c = services.enqueue(job_type="test-steps", params={"steps": 2, "step_ms": 10}).pk
        d = services.enqueue(job_type="test-steps", params={"steps": 2, "step_ms": 10}).pk
    _wait_status(a, JobStatus.RUNNING)
    _wait_status(b, JobStatus.RUNNING)
    assert services.cancel_job(job_id=d).status == JobStatus.CANCELLED

    asked = time.monotonic()
    services.cancel_job(job_id=a)
    cancelled = _wait_status(a, *FINISHED_STATUSES)
    assert cancelled.status == JobStatus.CANCELLED
    assert time.monotonic() - asked < 1.0
    assert cancelled.progress_message == "Cancelled"

    # a's slot goes to c; b still holds the other one
    assert _wait_status(c, JobStatus.SUCCESS).started_at >= cancelled.finished_at
    assert _status(b) == JobStatus.RUNNING
    assert services.cancel_running() == 1
    _wait_status(b, JobStatus.CANCELLED)
    never = JobRun.objects.get(pk=d)
    assert never.status == JobStatus.CANCELLED and never.started_at is None


def test_a_job_that_raises_fails_with_one_line_and_frees_the_slot():
    failing = services.enqueue(
        job_type="test-steps", params={"steps": 5, "step_ms": 0, "fail_at": 2}
    ).pk
    job = _wait_status(failing, JobStatus.FAILED, JobStatus.SUCCESS)
    assert job.status == JobStatus.FAILED
    # A sentence: the class name is for the traceback in the log (issue 16).
    assert job.error == "Step 2 failed"
    assert job.finished_at is not None
    after = [
        services.enqueue(job_type="test-steps", params={"steps": 1, "step_ms": 0}).pk
        for _ in range(3)
    ]
    for job_id in after:
        _wait_status(job_id, JobStatus.SUCCESS)


def test_live_progress_advances_and_the_row_is_written_sparingly(row_writes):
    job_id = services.enqueue(job_type="test-steps", params={"steps": 100, "step_ms": 30}).pk
    _wait_status(job_id, JobStatus.RUNNING)
    seen: list[int] = []

    def progressed() -> bool:
        state = live.read_progress(job_id)
        if state is not None and (not seen or state.current > seen[-1]):
            seen.append(state.current)
        return len(seen) >= 3

    wait_for(progressed, timeout=10, what="three advancing live progress readings")
    state = live.read_progress(job_id)
    assert state is not None and state.total == 100
    assert state.eta_seconds is not None and 0 < state.eta_seconds < 10

    job = _wait_status(job_id, JobStatus.SUCCESS)
    assert job.progress_current == job.progress_total == 100
    assert 2 <= row_writes(job_id) <= 12
    assert live.read_progress(job_id) is None  # cleared when the job ended
