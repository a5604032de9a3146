"""Queue control (issue 15 item 4) in one process: pauses and limits as the claim obeys them.

The real clusters' side — a pause holding claims within one claim cycle, a limit that two
clusters never exceed — is in ``test_control_cluster``.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from jobs import control, runner, services, tickets
from jobs.models import JobLane, JobRun, JobStatus
from tests.cluster import max_overlap

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_cluster(cluster_factory):
    """No cluster may claim what these tests claim themselves."""
    return cluster_factory


def _steps(job_type: str = "test-steps", **params: object) -> JobRun:
    return services.enqueue(job_type=job_type, params={"steps": 0, **params})


def test_a_paused_queue_claims_nothing_until_it_is_resumed(no_cluster):
    job = _steps()
    control.pause(by="ann")
    assert services.claim_next() is None
    # Nothing waits or polls for a paused job.
    assert services.next_due_in() is None

    control.resume()
    claimed = services.claim_next()
    assert claimed is not None
    assert claimed.pk == job.pk


def test_resume_pushes_tickets_for_the_waiting_jobs(no_cluster):
    control.pause(by="ann")
    _steps()
    # A worker took the enqueue's ticket and, the queue being paused, found nothing.
    tickets.broker().purge_queue()
    tickets.clear_waiting()
    with transaction.atomic():
        control.resume()
    assert int(tickets.broker().queue_size() or 0) == 1


def test_pausing_a_type_leaves_the_others_running(no_cluster):
    held = _steps("test-lane-a")
    other = _steps()
    control.pause(name="test-lane-a", by="ann")
    claimed = services.claim_next()
    assert claimed is not None
    assert claimed.pk == other.pk
    assert services.claim_next() is None
    control.resume(name="test-lane-a")
    claimed = services.claim_next()
    assert claimed is not None
    assert claimed.pk == held.pk


def test_pausing_a_lane_holds_every_type_in_it(no_cluster):
    _steps("test-lane-a")
    _steps("test-lane-b")
    other = _steps()
    control.pause(name="test-lane", by="ann")
    claimed = services.claim_next()
    assert claimed is not None
    assert claimed.pk == other.pk
    assert services.claim_next() is None


def test_a_second_pause_keeps_the_first_time_and_name():
    first = control.pause(by="ann")
    again = control.pause(by="bob")
    assert (again.paused_at, again.paused_by) == (first.paused_at, "ann")


def test_a_full_lane_holds_its_jobs_and_a_finished_one_frees_the_slot(no_cluster):
    control.set_limit(lane="test-lane", limit=1)
    first = _steps("test-lane-a")
    second = _steps("test-lane-b")
    other = _steps()
    claimed = services.claim_next()
    assert claimed is not None
    assert claimed.pk == first.pk
    # The lane is full: the next claim skips its job and takes another type.
    nxt = services.claim_next()
    assert nxt is not None
    assert nxt.pk == other.pk
    assert services.claim_next() is None
    with transaction.atomic():
        services.finish(job=claimed, status=JobStatus.SUCCESS)
        after = services.claim_next()
    assert after is not None
    assert after.pk == second.pk


def test_a_direct_run_counts_for_the_limit(no_cluster):
    control.set_limit(lane="test-lane", limit=1)
    direct = services.start_direct(job_type="test-lane-a", params={"steps": 0})
    queued = _steps("test-lane-b")
    assert services.claim_next() is None
    with transaction.atomic():
        services.finish(job=direct, status=JobStatus.SUCCESS)
    claimed = services.claim_next()
    assert claimed is not None
    assert claimed.pk == queued.pk


def test_a_limit_set_while_jobs_run_counts_them(no_cluster):
    running = [_steps("test-lane-a") for _ in range(2)]
    assert all(services.claim_next() for _ in running)
    _steps("test-lane-b")
    control.set_limit(lane="test-lane", limit=2)
    assert services.claim_next() is None
    control.set_limit(lane="test-lane", limit=3)
    assert services.claim_next() is not None
    control.set_limit(lane="test-lane", limit=None)
    assert JobLane.objects.get(name="test-lane").max_running is None


def test_the_limit_holds_when_many_claim_at_the_same_moment(no_cluster):
    limit = 2
    control.set_limit(lane="test-lane", limit=limit)
    with transaction.atomic():
        for i in range(12):
            _steps("test-lane-a" if i % 2 else "test-lane-b")
    claimers = 6
    barrier = threading.Barrier(claimers)
    claimed: list[int] = []

    def claim() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                job = services.claim_next()
                if job is not None:
                    claimed.append(job.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == limit
    assert JobRun.objects.filter(status=JobStatus.RUNNING).count() == limit


def test_a_drained_queue_never_runs_more_than_the_limit(no_cluster):
    control.set_limit(lane="test-lane", limit=1)
    with transaction.atomic():
        ids = [_steps("test-lane-a", step_ms=5, steps=2).pk for _ in range(4)]
    assert runner.run_next() == 4
    runs = JobRun.objects.filter(pk__in=ids)
    assert {run.status for run in runs} == {JobStatus.SUCCESS}
    assert max_overlap(runs) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: control.pause(name="nope", by="x"), "no job type or lane named"),
        (lambda: control.resume(name="x" * 5000), "no job type or lane named"),
        (lambda: control.set_limit(lane="test-lane-a", limit=1), "runs in the lane test-lane"),
        (lambda: control.set_limit(lane="nope", limit=1), "no lane named"),
        (lambda: control.set_limit(lane="test-lane", limit=0), "from 1 to"),
        (lambda: control.set_limit(lane="test-lane", limit=10**9), "from 1 to"),
    ],
)
def test_bad_names_and_limits_are_refused_and_change_nothing(call, message):
    with pytest.raises(control.ControlError, match=message):
        call()
    assert not JobLane.objects.exists()


def test_the_queue_state_says_who_paused_what():
    control.pause(by="ann")
    control.pause(name="test-steps", by="cli")
    control.set_limit(lane="test-lane", limit=1)
    state = control.queue_state()
    assert state.queue is not None
    assert state.queue.paused_by == "ann"
    assert state.paused_for("test-flaky") is state.queue
    lanes = {lane.name: lane for lane in state.lanes}
    assert lanes["test-lane"].types == ["test-lane-a", "test-lane-b"]
    assert lanes["test-lane"].limit == 1
    assert state.as_json()["paused_types"] == {
        "test-steps": {"at": state.paused["test-steps"].paused_at.isoformat(), "by": "cli"}
    }


def test_ends_and_claims_across_two_limited_lanes_at_once_never_lose_an_end(no_cluster):
    """Each worker's end gives back its lane's slot and claims the other lane's job in the
    same transaction: on PostgreSQL the two may wait for each other's lane row (a deadlock
    that the database breaks by failing one). The end is recorded all the same."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: two ends never overlap")
    control.set_limit(lane="test-lane", limit=50)
    control.set_limit(lane="test-steps", limit=50)
    errors: list[BaseException] = []

    def end_and_claim(job: JobRun, barrier: threading.Barrier) -> None:
        try:
            with transaction.atomic():
                services.finish(job=job, status=JobStatus.SUCCESS)
                barrier.wait(timeout=10)
                services.claim_next()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    # Whichever claims first decides whether they cross: several rounds make it certain.
    for _ in range(6):
        JobRun.objects.filter(status=JobStatus.QUEUED).update(status=JobStatus.CANCELLED)
        with transaction.atomic():
            _steps("test-lane-a")
            _steps("test-steps")
        ending = [services.claim_next() for _ in range(2)]
        with transaction.atomic():
            # The first claimer takes test-steps, the second test-lane.
            _steps("test-steps")
            _steps("test-lane-b")
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=end_and_claim, args=(j, barrier)) for j in ending]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        ended = JobRun.objects.filter(pk__in=[j.pk for j in ending if j is not None])
        assert [run.status for run in ended] == [JobStatus.SUCCESS] * 2


def test_an_end_and_claim_take_a_savepoint_only_when_the_end_gave_back_a_lane_slot(no_cluster):
    """The savepoint that keeps a deadlocked claim from failing the recorded end costs two
    round trips per job; without a lane row held there is no deadlock, and no savepoint."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite claims hold no lane rows")

    def end_and_claim() -> list[str]:
        with transaction.atomic():
            _steps()
        ending = services.claim_next()
        assert ending is not None
        with transaction.atomic():
            _steps()
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            services.finish(job=ending, status=JobStatus.SUCCESS)
            assert services.claim_next() is not None
        JobRun.objects.filter(status=JobStatus.RUNNING).update(status=JobStatus.SUCCESS)
        return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" in q["sql"]]

    assert end_and_claim() == []
    control.set_limit(lane="test-steps", limit=50)
    assert len(end_and_claim()) == 2  # SAVEPOINT and RELEASE SAVEPOINT
    # The lane row's lock ends with the transaction: the next one starts without it.
    with transaction.atomic():
        assert not control.holds_lane_row()
