"""A CLI or cron run that meets an active job of its type never runs it (issue 11).

The command and the other job race as a person would see it: ``manage.py run_unique`` in a
subprocess while a job with the same dedupe key is queued or running — in a real cluster,
or as a row that only this test moves on (then nobody else could have run it).
"""

from __future__ import annotations

import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from jobs import services
from jobs.models import ACTIVE_STATUSES, JobRun, JobStatus, Trigger
from tests.cluster import manage, wait_for
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _starts(marker: Path) -> int:
    if not marker.exists():
        return 0
    return sum(1 for line in marker.read_text(encoding="utf-8").splitlines() if "start" in line)


def _held(status: JobStatus, **fields: object) -> JobRun:
    """A web job holding test-unique's dedupe key that no process runs: only this test
    changes it, so anything else that touches it is the command under test."""
    now = timezone.now()
    running = status == JobStatus.RUNNING
    return JobRunFactory.create(
        job_type="test-unique",
        window="test-unique",
        params={"steps": 20},
        status=status,
        trigger=Trigger.WEB,
        dedupe_key="test-unique",
        attempt=1 if running else 0,
        started_at=now if running else None,
        heartbeat_at=now if running else None,
        worker="elsewhere:1" if running else "",
        **fields,
    )


def _announced(proc: subprocess.Popen[str]) -> str:
    """Wait for the command's first line on stderr and return it."""
    assert proc.stderr is not None
    return proc.stderr.readline()


def test_a_cli_run_follows_the_running_job_of_its_type_and_never_runs_it(drained, tmp_path):
    marker = tmp_path / "job"
    # 8 s of work: the command's start (a second or more on a loaded machine) must find it
    # still running.
    job = services.enqueue(job_type="test-unique", params={"steps": 160, "marker": str(marker)})
    wait_for(
        lambda: JobRun.objects.filter(pk=job.pk, progress_current__gt=0).exists(),
        timeout=20,
        what="the web job to make progress",
    )
    proc = manage("run_unique", "--steps", "5")
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 0, err
    first = err.strip().splitlines()[0]
    assert first.startswith(f"test-unique is already running as job {job.pk} (web, ")
    assert " %) — following it; Ctrl+C stops following, " in first
    assert first.endswith(f"`manage.py jobs cancel {job.pk}` stops the job")
    assert f"Job {job.pk} succeeded" in out
    assert "Traceback" not in err
    assert JobRun.objects.filter(job_type="test-unique").count() == 1
    assert JobRun.objects.get(pk=job.pk).status == JobStatus.SUCCESS
    assert _starts(marker) == 1  # the cluster ran it once; the command never did


def test_a_cli_run_follows_a_queued_job_until_the_cluster_has_run_it(drained, tmp_path):
    marker = tmp_path / "job"
    job = services.enqueue(
        job_type="test-unique",
        params={"steps": 4, "marker": str(marker)},
        run_after=timezone.now() + timedelta(seconds=3),
    )
    proc = manage("run_unique")
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 0, err
    assert err.startswith(f"test-unique is already queued as job {job.pk} (web) — following it")
    assert f"Job {job.pk} succeeded" in out
    assert JobRun.objects.filter(job_type="test-unique").count() == 1
    assert _starts(marker) == 1


@pytest.mark.parametrize(
    ("status", "error", "code", "last_line"),
    [
        (JobStatus.SUCCESS, "", 0, None),
        (JobStatus.FAILED, "ValueError: it broke", 1, "failed: It broke"),
        (JobStatus.CANCELLED, "", 130, "cancelled."),
    ],
)
def test_the_follower_exits_with_the_followed_job_s_outcome(status, error, code, last_line):
    held = _held(JobStatus.RUNNING, progress_current=43, progress_total=100)
    proc = manage("run_unique")
    try:
        first = _announced(proc)
        assert first.startswith(f"test-unique is already running as job {held.pk} (web, 43 %)")
        # Still following, and it has not touched the job.
        assert proc.poll() is None
        held.refresh_from_db()
        assert (held.status, held.worker, held.attempt) == (JobStatus.RUNNING, "elsewhere:1", 1)
        JobRun.objects.filter(pk=held.pk).update(
            status=status, error=error, result={"steps": 20}, finished_at=timezone.now()
        )
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    if last_line is None:
        assert f"Job {held.pk} succeeded" in out
    else:
        assert err.strip().splitlines()[-1] == f"Job {held.pk} {last_line}"
    assert "Traceback" not in err
    assert JobRun.objects.count() == 1


def test_ctrl_c_stops_following_and_leaves_the_job_running():
    held = _held(JobStatus.RUNNING)
    proc = manage("run_unique")
    try:
        _announced(proc)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert f"Stopped following job {held.pk}; it goes on" in err
    assert "Traceback" not in err
    held.refresh_from_db()
    assert held.status == JobStatus.RUNNING
    assert held.cancel_requested_at is None
    assert JobRun.objects.count() == 1


@pytest.mark.parametrize("status", ACTIVE_STATUSES)
def test_a_cron_run_skips_an_active_job_of_its_type(drained, status):
    # With a cluster up (drained), a queued job will be run: cron has nothing to do.
    held = _held(status, run_after=timezone.now() + timedelta(hours=1))
    proc = manage("run_unique", "--scheduled")
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"skipped: job {held.pk} already {status}" in err
    assert "Traceback" not in err
    assert JobRun.objects.count() == 1
    after = JobRun.objects.get()
    assert (after.status, after.attempt, after.worker) == (held.status, held.attempt, held.worker)
    JobRun.objects.filter(pk=held.pk).update(status=JobStatus.SUCCESS)  # nobody runs it


@pytest.mark.parametrize("scheduled", [False, True])
def test_a_queued_job_with_no_cluster_to_run_it_is_named_with_what_to_do(
    cluster_factory, scheduled
):
    held = _held(JobStatus.QUEUED)
    proc = manage("run_unique", *(["--scheduled"] if scheduled else []))
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    line = err.strip().splitlines()[-1]
    assert f"test-unique is already queued as job {held.pk} (web) but no job cluster" in line
    assert "start one (`manage.py qcluster`)" in line
    assert f"`manage.py jobs cancel {held.pk}`" in line
    assert "Traceback" not in err
    after = JobRun.objects.get()
    assert (after.status, after.attempt) == (JobStatus.QUEUED, 0)
