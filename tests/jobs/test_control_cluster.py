"""Queue control on real clusters (issue 15 item 4): a pause holds new claims within one
claim cycle and running jobs finish; lifting it releases the waiting jobs; a lane's limit is
never exceeded, even by two clusters claiming at once."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from jobs import control, services, tickets
from jobs.models import JobRun, JobStatus
from tests.cluster import manage, max_overlap, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


def _statuses(ids: list[int]) -> set[str]:
    return set(JobRun.objects.filter(pk__in=ids).values_list("status", flat=True))


def _tickets_in_broker() -> int:
    broker = tickets.broker()
    # The ORM broker's queue size leaves out tickets a pusher has taken but not finished.
    return int(broker.queue_size() or 0) + int(broker.lock_size() or 0)


def _cli(*args: str) -> str:
    proc = manage("jobs", *args)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


def test_a_paused_queue_finishes_its_running_job_and_starts_nothing_until_unpaused(
    cluster, drained
):
    running = services.enqueue(job_type="test-steps", params={"steps": 30, "step_ms": 50})
    wait_for(
        lambda: JobRun.objects.get(pk=running.pk).status == JobStatus.RUNNING,
        timeout=30,
        what="the first job to start",
    )
    assert "Queue paused by cli at" in _cli("pause")
    held = [services.enqueue(job_type="test-steps", params={"steps": 1}).pk for _ in range(3)]

    wait_for(
        lambda: JobRun.objects.get(pk=running.pk).status == JobStatus.SUCCESS,
        timeout=60,
        what="the running job to finish",
    )
    # One claim cycle: the worker that ended it claimed nothing, and the tickets the held
    # jobs were given have been taken and found nothing.
    wait_for(lambda: _tickets_in_broker() == 0, timeout=30, what="the tickets to be taken")
    assert _statuses(held) == {JobStatus.QUEUED}
    assert "Queue paused by cli" in _cli("list")

    assert "Queue running." in _cli("unpause")
    wait_for(lambda: _statuses(held) == {JobStatus.SUCCESS}, timeout=60, what="the held jobs")


def test_a_type_paused_through_the_api_waits_while_the_others_run(
    cluster, drained, django_user_model
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user(username="ann", password="pw-ann-1"))
    client.get("/")
    csrf = {"X-CSRFToken": client.cookies["csrftoken"].value}
    assert client.post("/queue/pause/test-lane-a", headers=csrf).status_code == 200
    held = services.enqueue(job_type="test-lane-a", params={"steps": 1})
    # Queued after the held one: FIFO alone would run it second.
    other = services.enqueue(job_type="test-steps", params={"steps": 1})
    wait_for(
        lambda: JobRun.objects.get(pk=other.pk).status == JobStatus.SUCCESS,
        timeout=60,
        what="the job of a type that is not paused",
    )
    assert JobRun.objects.get(pk=held.pk).status == JobStatus.QUEUED

    assert client.post("/queue/resume/test-lane-a", headers=csrf).status_code == 200
    wait_for(
        lambda: JobRun.objects.get(pk=held.pk).status == JobStatus.SUCCESS,
        timeout=60,
        what="the unpaused job",
    )


LIMIT = 2
ROUNDS = 6


def test_two_clusters_never_run_more_of_a_lane_than_its_limit(cluster_factory):
    control.set_limit(lane="test-lane", limit=LIMIT)
    # More workers than the limit in each cluster: claims race within and across clusters.
    clusters = [cluster_factory.new("limit", PLAYLISTER_JOB_WORKERS="4") for _ in range(2)]
    workers = sum(len(c.worker_pids()) for c in clusters)
    lane: list[int] = []
    for _ in range(ROUNDS):
        # Each round starts with a ticket for every worker at once: they all claim together
        # with nothing of the lane running, and again as each job ends.
        with transaction.atomic():
            batch = [
                services.enqueue(
                    job_type="test-lane-a" if i % 2 else "test-lane-b",
                    params={"steps": 2, "step_ms": 30},
                ).pk
                for i in range(workers)
            ]
        tickets.push(workers)
        lane += batch

        def round_done(batch: list[int] = batch) -> bool:
            # Spare tickets keep idle workers claiming while the lane is full.
            tickets.push(workers)
            return _statuses(batch) == {JobStatus.SUCCESS}

        wait_for(round_done, timeout=120, interval=0.1, what="the round's jobs to run")
    runs = list(JobRun.objects.filter(pk__in=lane))
    assert max_overlap(runs) <= LIMIT
    # The limit was reached, not merely respected by running one at a time.
    assert max_overlap(runs) == LIMIT
    # Both clusters ran the lane's jobs.
    assert len({run.worker.rpartition(":")[2] for run in runs}) > 2
