"""Checkpoints and resume (issue 15 item 1): the engine's side, with the test job types.

The warmers' cursors and the real clusters (SIGKILL, graceful stop) are in
``tests/enrichment/test_warm_resume.py``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import services
from jobs.cancel import CancelEvent
from jobs.checkpoint import Checkpoint, resumed_text
from jobs.models import JobRun, JobStatus, Trigger
from jobs.progress import NullProgress, ProgressState, Sources, TeeProgress
from jobs.queries import HistoryFilters
from jobs.runner import execute, run_direct
from jobs.tracker import JobTracker
from tests.factories import JobRunFactory
from tests.jobs.test_cli import run

pytestmark = pytest.mark.django_db(transaction=True)


def steps_done(marker: Path) -> list[int]:
    if not marker.exists():
        return []
    lines = marker.read_text().splitlines()
    return [int(line.split()[1]) for line in lines if line.startswith("step ")]


class CancelAt(NullProgress):
    """A listener that cancels the run once ``at`` steps are done (a person's cancel)."""

    def __init__(self, token: CancelEvent, at: int) -> None:
        self.token, self.at, self.done = token, at, 0

    def advance(self, n: int = 1, message: str | None = None, source: Sources = None) -> None:
        self.done += n
        if self.done >= self.at:
            self.token.cancel()


def cancelled_at(at: int, marker: Path, steps: int = 10) -> JobRun:
    token = CancelEvent()
    job = run_direct(
        "test-resumable",
        {"steps": steps, "step_ms": 0, "marker": str(marker)},
        listener=CancelAt(token, at),
        token=token,
    )
    assert job.status == JobStatus.CANCELLED
    return job


# -- progress ------------------------------------------------------------------------------
def test_a_checkpoint_keeps_the_count_and_a_resume_starts_its_phase_there():
    state = ProgressState()
    state.start(None, "Reading")
    state.start(300, "Working")
    state.advance(270, source="plex")
    state.checkpoint({"after": 270})
    saved, _ = state.last_checkpoint()
    assert saved is not None
    assert (saved.cursor, saved.phase, saved.current, saved.total) == ({"after": 270}, 2, 270, 300)

    again = ProgressState()
    copied = Checkpoint.from_json(saved.as_json())
    assert copied is not None
    again.resume_from(copied.resuming(attempt=2))
    again.start(None, "Reading")  # an earlier phase starts from 0 as always
    assert again.snapshot().current == 0
    again.start(300, "Working")
    snap = again.snapshot()
    assert (snap.current, snap.source_counts) == (270, {"plex": 270})
    # Until the service makes one, the resumed checkpoint stands (and says it resumed).
    kept, _ = again.last_checkpoint()
    assert kept is not None and kept.resumed == {"current": 270, "total": 300, "attempt": 2}
    again.checkpoint({"after": 271})
    latest, _ = again.last_checkpoint()
    assert latest is not None and latest.resumed == kept.resumed


def test_a_bar_beside_a_resumed_tracker_starts_at_the_saved_count_too():
    tracker, bar = ProgressState(), ProgressState()
    tracker.resume_from(Checkpoint(cursor=5, current=6, total=10))
    TeeProgress(tracker, bar).start(10, "Stepping")
    assert bar.snapshot().current == 6


@pytest.mark.parametrize(
    "junk", [None, 3, "x", [], {"current": 3}, {"cursor": 1, "current": "many"}]
)
def test_a_checkpoint_of_an_unknown_shape_means_starting_from_the_beginning(junk):
    assert Checkpoint.from_json(junk) is None
    assert resumed_text(junk) == ""


# -- the tracker: rides on the heartbeat ---------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _updates(queries: CaptureQueriesContext) -> int:
    return sum(1 for q in queries.captured_queries if q["sql"].startswith('UPDATE "job_runs"'))


def _drive(job: JobRun, *, per_tick: int, checkpoints: bool, seconds: float = 20.0) -> int:
    """Ticks a tracker every 0.25 s of a fake clock for ``seconds``; the job_runs UPDATEs."""
    clock = Clock()
    tracker = JobTracker(job.pk, token=CancelEvent(), heartbeat_interval=30.0, clock=clock)
    tracker.start(100_000, "Working")
    with CaptureQueriesContext(connection) as queries:
        while clock.now < seconds:
            tracker.advance(per_tick)
            if checkpoints:
                tracker.checkpoint(tracker.snapshot().current)
            tracker._tick()  # one reporter tick, on the fake clock (no reporter thread)
            clock.now += 0.25
    return _updates(queries)


@pytest.fixture
def running() -> JobRun:
    return JobRunFactory.create(status=JobStatus.RUNNING, attempt=1, started_at=timezone.now())


def test_checkpoints_cost_at_most_one_row_write_per_five_seconds(running):
    tracker_writes = _drive(running, per_tick=1, checkpoints=False)
    JobRun.objects.filter(pk=running.pk).update(checkpoint=None)
    with_checkpoints = _drive(running, per_tick=1, checkpoints=True)
    # A checkpoint at every item for 20 s: four writes more (one per 5 s), never one per item.
    assert tracker_writes <= 1
    assert 3 <= with_checkpoints - tracker_writes <= 4
    row = JobRun.objects.get(pk=running.pk)
    saved = Checkpoint.from_json(row.checkpoint)
    assert saved is not None and saved.cursor == saved.current >= 60


def test_checkpoints_add_no_write_when_the_progress_writes_often_enough(running):
    # 10 % of 100,000 every 2.5 s: the progress writes carry the checkpoints.
    without = _drive(running, per_tick=1000, checkpoints=False)
    with_checkpoints = _drive(running, per_tick=1000, checkpoints=True)
    assert with_checkpoints == without > 1


# -- the runner ----------------------------------------------------------------------------
def test_the_end_state_carries_the_latest_checkpoint(tmp_path):
    job = cancelled_at(4, tmp_path / "m")
    saved = Checkpoint.from_json(job.checkpoint)
    assert saved is not None and (saved.cursor, saved.current, saved.total) == (3, 4, 10)


def test_a_requeued_run_resumes_at_its_cursor_and_count(tmp_path):
    marker = tmp_path / "m"
    job = JobRunFactory.create(
        job_type="test-resumable",
        params={"steps": 10, "step_ms": 0, "marker": str(marker)},
        status=JobStatus.RUNNING,
        attempt=1,
        max_attempts=3,
        started_at=timezone.now(),
    )
    saved = Checkpoint(cursor=5, current=6, total=10).as_json()
    assert services.requeue_interrupted(job=job, reason="Requeued", checkpoint=saved)
    queued = JobRun.objects.get(pk=job.pk)
    assert (queued.status, queued.progress_current, queued.attempt) == (JobStatus.QUEUED, 6, 0)

    claimed = services.claim_next()
    assert claimed is not None and claimed.pk == job.pk
    done = execute(claimed)
    assert done.status == JobStatus.SUCCESS
    assert steps_done(marker) == [6, 7, 8, 9]
    assert done.progress_current == 10
    assert resumed_text(done.checkpoint) == "resumed from 6/10 (attempt 1)"


def test_a_transient_failure_retries_from_the_cursor(tmp_path):
    marker = tmp_path / "m"
    marker.touch()
    job = services.enqueue(
        job_type="test-resumable",
        params={"steps": 10, "step_ms": 0, "marker": str(marker), "flaky_at": 6},
    )
    first = execute(services.claim_next() or pytest.fail("nothing to claim"))
    assert (first.status, first.attempt) == (JobStatus.QUEUED, 1)  # waits for its retry
    assert Checkpoint.from_json(first.checkpoint) is not None
    later = first.run_after + timedelta(seconds=1)
    claimed = services.claim_next(now=later)
    assert claimed is not None and claimed.pk == job.pk
    done = execute(claimed)
    assert done.status == JobStatus.SUCCESS
    assert steps_done(marker) == list(range(10))  # 0-5, then 6-9: none twice
    assert resumed_text(done.checkpoint) == "resumed from 6/10 (attempt 2)"


def test_a_run_that_is_not_resumable_ignores_a_checkpoint(tmp_path):
    job = JobRunFactory.create(
        params={"steps": 3, "step_ms": 0},
        checkpoint=Checkpoint(cursor=1, current=2, total=3).as_json(),
    )
    claimed = services.claim_next()
    assert claimed is not None
    done = execute(claimed)
    assert done.status == JobStatus.SUCCESS and done.result == {"steps": 3}
    assert resumed_text(JobRun.objects.get(pk=job.pk).checkpoint) == ""


# -- retry and resume ----------------------------------------------------------------------
def test_a_retry_of_a_cancelled_run_continues_from_its_cursor(tmp_path):
    marker = tmp_path / "m"
    original = cancelled_at(4, marker)
    retry = services.retry_job(job_id=original.pk)
    assert Checkpoint.from_json(retry.checkpoint) is not None
    claimed = services.claim_next()
    assert claimed is not None and claimed.pk == retry.pk
    done = execute(claimed)
    assert done.status == JobStatus.SUCCESS
    assert steps_done(marker) == list(range(10))  # 0-3 by the original, 4-9 by the retry
    assert resumed_text(done.checkpoint) == f"resumed from 4/10 of #{original.pk}"


def test_run_again_of_a_successful_run_starts_fresh(tmp_path):
    marker = tmp_path / "m"
    first = run_direct("test-resumable", {"steps": 3, "step_ms": 0, "marker": str(marker)})
    assert first.status == JobStatus.SUCCESS and first.checkpoint is not None
    again = services.retry_job(job_id=first.pk)
    assert again.checkpoint is None


def test_the_detail_page_and_jobs_show_say_where_a_run_resumed(tmp_path, django_user_model):
    original = cancelled_at(4, tmp_path / "m")
    retry = services.retry_job(job_id=original.pk)
    claimed = services.claim_next()
    assert claimed is not None
    execute(claimed)
    client = Client()
    client.force_login(django_user_model.objects.create_user(username="alice"))
    page = client.get(f"/jobs/{retry.pk}/").content.decode()
    assert f"resumed from 4/10 of #{original.pk}" in page

    rescued = JobRunFactory.create(
        status=JobStatus.RUNNING,
        attempt=2,
        checkpoint=Checkpoint(cursor=269, current=270, total=300).resuming(attempt=2).as_json(),
    )
    assert "resumed from 270/300 (attempt 2)" in client.get(f"/jobs/{rescued.pk}/").content.decode()
    assert client.get(f"/jobs/{rescued.pk}.json").json()["resumed"] == (
        "resumed from 270/300 (attempt 2)"
    )
    code, out, _ = run("jobs", "show", str(rescued.pk))
    assert code == 0 and "resumed from 270/300 (attempt 2)" in out


def test_jobs_resume_continues_a_cancelled_run_here(tmp_path):
    marker = tmp_path / "m"
    original = cancelled_at(4, marker)
    code, out, err = run("jobs", "resume", str(original.pk))
    assert code == 0, err
    resumed = JobRun.objects.get(retry_of=original)
    assert (resumed.status, resumed.trigger, resumed.direct) == (JobStatus.SUCCESS, "cli", True)
    assert steps_done(marker) == list(range(10))
    assert "resuming from 4/10" in err
    assert "10/10" in err  # the bar
    assert f"Job {resumed.pk} succeeded" in out


def test_jobs_resume_refuses_what_it_cannot_resume_in_one_line(tmp_path):
    running = JobRunFactory.create(status=JobStatus.RUNNING, attempt=1)
    queued = JobRunFactory.create()
    succeeded = run_direct("test-resumable", {"steps": 2, "step_ms": 0})
    before = JobRun.objects.count()
    for job_id, says in [
        (999_999, "no job with id 999999"),
        (running.pk, "is still running"),
        (queued.pk, "is still queued"),
        (succeeded.pk, "nothing left to resume"),
    ]:
        code, out, err = run("jobs", "resume", str(job_id))
        assert code == 2, (job_id, err)
        assert says in err and "Traceback" not in err and out == ""
    assert JobRun.objects.count() == before
    code, _, err = run("jobs", "resume", "abc")
    assert code == 2 and "Traceback" not in err


def test_the_api_retry_carries_the_cursor(tmp_path, django_user_model):
    original = cancelled_at(6, tmp_path / "m")
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user(username="alice"))
    client.get("/")
    response = client.post(
        f"/jobs/{original.pk}/retry",
        data=json.dumps({}),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    assert response.status_code == 202
    new = JobRun.objects.get(pk=response.json()["jobId"])
    saved = Checkpoint.from_json(new.checkpoint)
    assert saved is not None and (saved.cursor, saved.current, saved.of) == (5, 6, original.pk)
    assert new.trigger == Trigger.WEB


def test_retry_failed_in_bulk_carries_each_runs_cursor():
    saved = Checkpoint(cursor=2, current=3, total=10).as_json()
    failed = JobRunFactory.create(
        job_type="test-resumable",
        params={"steps": 10, "step_ms": 0},
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        checkpoint=saved,
    )
    plain = JobRunFactory.create(status=JobStatus.FAILED, finished_at=timezone.now())
    result = services.bulk_retry_failed(filters=HistoryFilters())
    assert result.queued == 2
    carried = JobRun.objects.get(retry_of=failed)
    copied = Checkpoint.from_json(carried.checkpoint)
    assert copied is not None and (copied.cursor, copied.of) == (2, failed.pk)
    # A type that keeps no checkpoints starts from the beginning.
    assert JobRun.objects.get(retry_of=plain).checkpoint is None
