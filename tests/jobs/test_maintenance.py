"""The maintenance pass: rescue of runs whose worker is gone, and history pruning."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import maintenance, metrics
from jobs.models import FINISHED_STATUSES, JobLogLine, JobRun, JobStatus, Trigger
from tests.cluster import wait_for
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db

HOST = socket.gethostname()


def finished(days_ago: float, status: str = JobStatus.SUCCESS, **fields) -> JobRun:
    end = timezone.now() - timedelta(days=days_ago)
    return JobRunFactory.create(
        status=status,
        queued_at=end - timedelta(seconds=5),
        run_after=end - timedelta(seconds=5),
        started_at=end - timedelta(seconds=3),
        finished_at=end,
        attempt=1,
        **fields,
    )


def running(*, worker: str, heartbeat_age: float, attempt: int = 1, **fields) -> JobRun:
    now = timezone.now()
    return JobRunFactory.create(
        status=JobStatus.RUNNING,
        worker=worker,
        attempt=attempt,
        max_attempts=3,
        started_at=now - timedelta(seconds=heartbeat_age + 5),
        heartbeat_at=now - timedelta(seconds=heartbeat_age),
        **fields,
    )


def log_line(job: JobRun, message: str) -> JobLogLine:
    return JobLogLine.objects.create(
        job=job, created=timezone.now(), level=20, logger="svc", message=message
    )


def ids(queryset=None) -> set[int]:
    return set((queryset or JobRun.objects.all()).values_list("pk", flat=True))


# -- pruning ---------------------------------------------------------------------------------
def test_pruning_keeps_the_retention_s_days_of_history_and_every_active_run(settings):
    settings.PLAYLISTER_JOB_RETENTION_DAYS = 30
    old = [finished(31, status) for status in FINISHED_STATUSES]
    kept = [finished(29), finished(0.01)]
    year = timezone.now() - timedelta(days=365)
    # Active runs are never history, however old: a long queue, a job running for a year.
    kept.append(JobRunFactory(status=JobStatus.QUEUED, queued_at=year, run_after=year))
    kept.append(running(worker="elsewhere:1", heartbeat_age=1, queued_at=year))
    metrics.roll_up()

    assert maintenance.prune_history() == len(old) == 3
    assert ids() == {job.pk for job in kept}
    assert maintenance.prune_history() == 0


def test_the_command_prunes_with_the_default_retention_of_90_days(capsys):
    finished(91)
    young = finished(89)
    metrics.roll_up()
    call_command("jobs", "maintain")
    assert "pruned 1" in capsys.readouterr().out
    assert ids() == {young.pk}


def test_nothing_is_pruned_before_the_metrics_have_counted_it():
    ancient, old = finished(400), finished(120)
    assert maintenance.prune_history() == 0  # nothing rolled up yet: the counters need them
    # Rolled up as far as 200 days ago: the older run may go, the other one waits.
    metrics.roll_up(clock=lambda: timezone.now() - timedelta(days=200))
    assert maintenance.prune_history() == 1
    assert ids() == {old.pk}
    metrics.roll_up()
    assert maintenance.prune_history() == 1
    assert not JobRun.objects.filter(pk__in=[ancient.pk, old.pk]).exists()


def test_a_pruned_run_takes_its_log_with_it_and_its_retry_keeps_all_but_the_link():
    old = finished(100, JobStatus.FAILED)
    for n in range(3):
        log_line(old, f"old line {n}")
    retry = finished(1, retry_of=old)
    log_line(retry, "the retry's line")
    metrics.roll_up()

    assert maintenance.prune_history() == 1
    assert not JobLogLine.objects.filter(job_id=old.pk).exists()  # deleted by the database
    retry.refresh_from_db()
    assert retry.retry_of_id is None
    assert list(retry.log_lines.values_list("message", flat=True)) == ["the retry's line"]


def test_pruning_deletes_in_batches_until_nothing_old_is_left(monkeypatch):
    monkeypatch.setattr(maintenance, "PRUNE_BATCH", 4)
    for _ in range(10):
        finished(200)
    young = finished(1)
    metrics.roll_up()
    with CaptureQueriesContext(connection) as queries:
        assert maintenance.prune_history() == 10
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 4 + 4 + 2, each its own short statement
    assert ids() == {young.pk}


# -- rescue ----------------------------------------------------------------------------------
def test_a_run_whose_heartbeat_went_stale_on_another_host_is_queued_again(settings):
    settings.PLAYLISTER_JOB_STALE_AFTER = 60
    stale = running(worker="elsewhere:4242", heartbeat_age=61)
    alive = running(worker="elsewhere:4243", heartbeat_age=55)
    now = timezone.now()

    report = maintenance.rescue_lost_jobs(now=now)

    assert (report.requeued, report.failed) == (1, 0)
    stale.refresh_from_db()
    assert (stale.status, stale.worker, stale.attempt) == (JobStatus.QUEUED, "", 1)
    assert stale.error == "Attempt 1 of 3 lost its worker (elsewhere:4242); running again"
    # The first backoff (1 s ± 20 %), so a worker that merely paused is not raced at once.
    assert now + timedelta(seconds=0.75) <= stale.run_after <= now + timedelta(seconds=1.25)
    alive.refresh_from_db()
    assert (alive.status, alive.worker) == (JobStatus.RUNNING, "elsewhere:4243")


def test_a_stale_run_on_its_last_attempt_ends_failed_as_worker_lost():
    job = running(worker="elsewhere:1", heartbeat_age=3600, attempt=3)
    now = timezone.now()
    assert maintenance.rescue_lost_jobs(now=now).failed == 1
    job.refresh_from_db()
    assert (job.status, job.error, job.finished_at) == (JobStatus.FAILED, "Worker lost", now)


def test_a_stale_direct_run_cannot_be_run_again_by_the_queue_and_ends_failed():
    job = running(worker="elsewhere:1", heartbeat_age=3600, direct=True, trigger=Trigger.CLI)
    assert maintenance.rescue_lost_jobs().failed == 1
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, "The process running it was lost")


def test_a_worker_start_rescues_only_this_host_s_dead_processes():
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_here = running(worker=f"{HOST}:{int(gone.stdout)}", heartbeat_age=1)
    alive_here = running(worker=f"{HOST}:{os.getpid()}", heartbeat_age=3600)
    stale_elsewhere = running(worker="elsewhere:1", heartbeat_age=3600)

    report = maintenance.rescue_lost_jobs(local_only=True)

    assert report.requeued == 1
    assert JobRun.objects.get(pk=dead_here.pk).status == JobStatus.QUEUED
    # A live process of this host keeps its job at a worker start, even with an old
    # heartbeat; another host's stale job waits for the periodic pass.
    still = JobRun.objects.filter(pk__in=[alive_here.pk, stale_elsewhere.pk])
    assert set(still.values_list("status", flat=True)) == {JobStatus.RUNNING}


@pytest.mark.cluster
def test_a_job_lost_with_another_host_runs_again_on_a_cluster(drained, capsys):
    job = running(
        worker="a-host-that-died:77",
        heartbeat_age=3600,
        params={"steps": 2, "step_ms": 10},
    )
    call_command("jobs", "maintain")
    assert "requeued 1" in capsys.readouterr().out
    job = wait_for(
        lambda: JobRun.objects.filter(pk=job.pk, status=JobStatus.SUCCESS).first(),
        timeout=30,
        what="the rescued job to run again",
    )
    assert job.attempt == 2
    assert job.worker.rpartition(":")[0] == HOST
