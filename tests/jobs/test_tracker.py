from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import live
from jobs.cancel import CancelEvent, JobCancelled, JobLost, WorkerShutdown
from jobs.models import JobRun, JobStatus
from jobs.tracker import JobTracker
from tests.cluster import wait_for
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running_job() -> JobRun:
    return JobRunFactory.create(status=JobStatus.RUNNING, attempt=1, started_at=timezone.now())


def test_live_progress_is_published_and_rows_written_on_each_tenth(running_job):
    token = CancelEvent()
    with JobTracker(running_job.pk, token=token, live_interval=0.05) as tracker:
        tracker.start(100, "Working")
        for i in range(100):
            tracker.advance(1, message=f"item {i}", source="plex")
            if i % 10 == 0:
                # let the reporter see intermediate states
                wait_for(lambda: tracker.row_writes >= 1, timeout=5)
        wait_for(
            lambda: (state := live.read_progress(running_job.pk)) and state.current == 100,
            timeout=5,
        )
    # start + at most nine 10 % steps; 100 % is the runner's final write
    assert 1 <= tracker.row_writes <= 10
    row = JobRun.objects.get(pk=running_job.pk)
    assert row.progress_total == 100
    assert row.source_counts["plex"] >= 1
    assert not token.cancelled


def test_heartbeat_refreshes_the_row_without_progress(running_job):
    with JobTracker(running_job.pk, token=CancelEvent(), heartbeat_interval=0.2):
        first = wait_for(
            lambda: JobRun.objects.values_list("heartbeat_at", flat=True).get(pk=running_job.pk),
            timeout=5,
        )
        wait_for(
            lambda: (
                JobRun.objects.values_list("heartbeat_at", flat=True).get(pk=running_job.pk) > first
            ),
            timeout=5,
            what="a second heartbeat",
        )


def test_cancel_flag_in_the_live_store_trips_the_token_quickly(running_job):
    token = CancelEvent()
    with JobTracker(running_job.pk, token=token):
        live.request_cancel(running_job.pk)
        asked = time.monotonic()
        assert token.wait(2.0)
        assert time.monotonic() - asked < 0.5
    assert isinstance(token.reason, JobCancelled)


def test_cancel_on_the_row_alone_still_reaches_the_job(running_job):
    """The live store may lose the flag (a flushed Redis): the row is the authority."""
    token = CancelEvent()
    with JobTracker(running_job.pk, token=token):
        JobRun.objects.filter(pk=running_job.pk).update(cancel_requested_at=timezone.now())
        assert token.wait(3.0)
    assert isinstance(token.reason, JobCancelled)


def test_a_shutting_down_worker_stops_the_job(running_job):
    token = CancelEvent()
    stopping = {"now": False}
    with JobTracker(running_job.pk, token=token, shutdown_check=lambda: stopping["now"]):
        assert not token.wait(0.3)
        stopping["now"] = True
        assert token.wait(3.0)
    assert isinstance(token.reason, WorkerShutdown)


def test_a_reclaimed_row_stops_the_previous_attempt(running_job):
    token = CancelEvent()
    with JobTracker(running_job.pk, token=token, attempt=1):
        JobRun.objects.filter(pk=running_job.pk).update(attempt=2)
        assert token.wait(3.0)
    assert isinstance(token.reason, JobLost)


def test_a_row_that_stopped_running_stops_the_job(running_job):
    token = CancelEvent()
    with JobTracker(running_job.pk, token=token):
        JobRun.objects.filter(pk=running_job.pk).update(status=JobStatus.FAILED)
        assert token.wait(3.0)
    assert isinstance(token.reason, JobLost)


def test_a_stale_cancel_flag_from_an_earlier_run_is_ignored(running_job):
    earlier = running_job.started_at - timedelta(minutes=5)
    live.request_cancel(running_job.pk, earlier)  # left by a run that ended before it landed
    token = CancelEvent()
    with JobTracker(
        running_job.pk, token=token, live_interval=0.05, started_at=running_job.started_at
    ):
        assert not token.wait(1.5)  # a flag tick and a row poll have passed
        live.request_cancel(running_job.pk, running_job.started_at)
        assert token.wait(1.0)
