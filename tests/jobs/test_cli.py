"""The CLI and cron routes, run as a person would: ``manage.py`` in a subprocess."""

from __future__ import annotations

import io
import signal

import pytest

from jobs.bars import TerminalProgress
from jobs.models import JobRun, JobStatus, Trigger
from jobs.selectors import ProgressView
from tests.cluster import manage, wait_for
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = manage(*args)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_command_runs_the_job_here_with_a_progress_bar_and_a_cli_row():
    code, out, err = run("run_steps", "--steps", "20", "--step-ms", "5", "--source", "plex")
    assert code == 0, err
    assert "20/20" in err  # the bar reached the end
    assert "plex=20" in err  # source counts beside it
    job = JobRun.objects.get()
    assert (job.status, job.trigger, job.direct) == (JobStatus.SUCCESS, Trigger.CLI, True)
    assert job.result == {"steps": 20}
    assert job.source_counts == {"plex": 20}
    assert f"Job {job.pk} succeeded" in out


def test_scheduled_run_logs_plain_lines_with_trigger_schedule():
    code, _out, err = run("run_steps", "--steps", "10", "--step-ms", "0", "--scheduled")
    assert code == 0, err
    assert "test-steps 10/10" in err
    assert "\r" not in err  # no bar redraws in a cron log
    assert JobRun.objects.get().trigger == Trigger.SCHEDULE


@pytest.mark.parametrize(
    ("signum", "code", "error"),
    [(signal.SIGINT, 130, "Cancelled (Ctrl+C)"), (signal.SIGTERM, 143, "Cancelled (SIGTERM)")],
)
def test_ctrl_c_or_sigterm_cancels_cleanly_at_the_next_checkpoint(signum, code, error):
    proc = manage("run_steps", "--steps", "10000", "--step-ms", "20")
    try:
        wait_for(
            lambda: (
                JobRun.objects.filter(status=JobStatus.RUNNING, progress_current__gt=0).exists()
                or proc.poll() is not None
            ),
            timeout=30,
            what="the command's job to run",
        )
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    job = JobRun.objects.get()
    assert job.status == JobStatus.CANCELLED
    assert job.error == error
    assert job.finished_at is not None


def test_a_failing_job_exits_1_with_one_line_and_the_traceback_on_request():
    code, _, err = run("run_steps", "--steps", "3", "--step-ms", "0", "--fail-at", "1")
    assert code == 1
    assert err.strip().splitlines()[-1] == f"Job {JobRun.objects.get().pk} failed: Step 1 failed"
    assert "--traceback shows where" in err
    assert "Traceback" not in err
    assert JobRun.objects.get().status == JobStatus.FAILED

    code, _, err = run(
        "run_steps", "--steps", "3", "--step-ms", "0", "--fail-at", "1", "--traceback"
    )
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "ValueError: step 1 failed" in err


def test_a_failing_cron_run_logs_its_traceback():
    code, _, err = run(
        "run_steps", "--steps", "3", "--step-ms", "0", "--fail-at", "1", "--scheduled"
    )
    assert code == 1
    assert "Traceback (most recent call last)" in err


def test_enqueue_flag_hands_the_job_to_the_queue():
    code, out, err = run("run_steps", "--steps", "1", "--enqueue")
    assert code == 0, err
    job = JobRun.objects.get(pk=int(out.strip()))
    assert (job.status, job.trigger, job.direct) == (JobStatus.QUEUED, Trigger.CLI, False)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run_steps", "--steps", "abc"], "steps: Enter a whole number."),
        (["run_steps", "--step-ms", "-5"], "step_ms: Ensure this value is greater than"),
        (["jobs", "enqueue", "nope"], "unknown job type 'nope'"),
        (["jobs", "enqueue", "test-steps", "--param", "steps=x"], "steps: Enter a whole number."),
        (["jobs", "enqueue", "test-steps", "--param", "nonsense"], "--param takes key=value"),
        (["jobs", "enqueue", "test-steps", "--param", "wat=1"], "wat: unknown parameter"),
        (["jobs", "show", "999999"], "no job with id 999999"),
        (["jobs", "cancel", "999999"], "no job with id 999999"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_records_nothing(args, fragment):
    code, _out, err = run(*args)
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1, err
    # Said to a person, not a Python class name ("CommandError: …").
    assert "CommandError" not in err
    assert not JobRun.objects.exists()


def test_cancelling_a_finished_job_from_the_cli_is_refused():
    job = JobRunFactory(status=JobStatus.SUCCESS)
    code, _, err = run("jobs", "cancel", str(job.pk))
    assert code == 2
    assert f"job {job.pk} has already finished (success)" in err
    job.refresh_from_db()
    assert job.cancel_requested_at is None


def test_jobs_command_lists_shows_enqueues_cancels_and_reports_stats():
    code, out, _ = run("jobs", "enqueue", "test-steps", "--param", "steps=3")
    assert code == 0
    job_id = int(out.strip())
    code, out, _ = run("jobs", "list")
    assert code == 0 and f"{job_id}" in out and "queued" in out
    code, out, _ = run("jobs", "show", str(job_id))
    assert code == 0 and "Steps: 3" in out and "attempt:" in out
    code, out, _ = run("jobs", "cancel", str(job_id))
    assert code == 0 and f"Job {job_id} cancelled." in out
    assert JobRun.objects.get(pk=job_id).status == JobStatus.CANCELLED
    JobRunFactory(status=JobStatus.RUNNING)
    code, out, _ = run("jobs", "cancel-running")
    assert code == 0 and "Asked 1 running job(s) to stop." in out
    code, out, _ = run("jobs", "stats")
    assert code == 0
    assert "queue: 0 pending, 1 active, concurrency 2" in out
    assert "test-steps" in out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_forces_the_exit_after_recording_the_run_as_interrupted(signum):
    # Each step blocks for 2 s without looking at the token: only a second signal ends it
    # before the step does (``timeout 50 manage.py …`` delivers its SIGTERM twice).
    proc = manage("run_blocking", "--steps", "100", "--blocking-ms", "2000")
    try:
        # The row shows the phase once the job's first step (a 2 s block) is under way.
        wait_for(
            lambda: (
                JobRun.objects.filter(status=JobStatus.RUNNING, progress_total=100).exists()
                or proc.poll() is not None
            ),
            timeout=30,
            what="the command's job to be in its first step",
        )
        proc.send_signal(signum)
        assert proc.stderr is not None
        wait_for(
            lambda: "Cancelling at the next checkpoint" in proc.stderr.readline(),
            timeout=10,
            what="the first signal to be taken",
        )
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err
    assert "cancelled (interrupted)" in err
    job = JobRun.objects.get()
    assert job.status == JobStatus.CANCELLED
    assert job.error == "Cancelled (interrupted)"
    assert job.finished_at is not None


def test_a_broken_pipe_ends_the_listing_quietly():
    JobRun.objects.bulk_create(JobRunFactory.build() for _ in range(1000))
    # 1,000 lines are more than a pipe holds: the command is still writing when the reader
    # goes (as with `manage.py jobs list --limit 1000 | head -1`).
    proc = manage("jobs", "list", "--limit", "1000")
    assert proc.stdout is not None
    assert proc.stdout.readline().split()[:2] == ["ID", "TYPE"]
    proc.stdout.close()
    err = proc.stderr.read() if proc.stderr else ""
    proc.wait(timeout=30)
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
    assert err == ""
    assert proc.returncode == 128 + signal.SIGPIPE


@pytest.mark.parametrize(
    "args",
    [
        ["jobs", "stats", "--days", "1000000"],
        ["jobs", "stats", "--days", "-1"],
        ["jobs", "list", "--limit", "0"],
        ["jobs", "list", "--limit", "1" + "0" * 40],
        ["jobs", "list", "--status", "nope"],
        ["jobs", "list", "--type", "x" * 2000],
        ["jobs", "show", "99999999999999999999999"],
        ["jobs", "show", "abc"],
        ["jobs", "cancel", "0"],
        ["jobs", "enqueue", "test-steps", "--priority", "9"],
        ["jobs", "enqueue", "test-steps", "--priority", "1" * 30],
        ["jobs", "nonsense"],
        ["jobs"],
        ["run_steps", "--no-such-flag"],
        ["demo_services", "--port", "70000"],
        ["demo_services", "--latency", "nan"],
        ["demo_services", "--artists", "0"],
    ],
)
def test_every_cli_option_is_bounded_and_fails_in_one_line_with_exit_2(args):
    code, _out, err = run(*args)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not JobRun.objects.exists()


def _view(current: int, total: int | None = 300) -> ProgressView:
    return ProgressView(
        status="running",
        current=current,
        total=total,
        message="",
        eta_seconds=None,
        source_counts={},
        live=True,
    )


def test_a_follower_joining_mid_run_counts_its_rate_from_what_it_saw():
    # Joining a job at 270/300 is not 270 items in a split second: the rate starts from there.
    out = io.StringIO()
    bar = TerminalProgress(description="cache-warm", file=out)
    clock = [1000.0]
    bar._bar._time = lambda: clock[0]  # tqdm's clock: a deterministic elapsed time
    bar.show(_view(270))
    clock[0] += 10.0
    bar.show(_view(280))
    assert "1.00item/s" in out.getvalue().rsplit("\r", 1)[-1]
    # A requeued job that starts over is a new start too, not a negative rate.
    clock[0] += 10.0
    bar.show(_view(3))
    clock[0] += 2.0
    bar.show(_view(5))
    assert "1.00item/s" in out.getvalue().rsplit("\r", 1)[-1]
    bar.close()
