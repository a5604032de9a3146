"""Tickets drain the queue and coalesce: one waiting ticket serves every job behind it.

The tickets here are run in the test process (``runner.run_next``, as a worker would); no
cluster runs meanwhile, so the broker's queue only changes by what the code under test does.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from jobs import runner, services, tickets
from jobs.models import JobRun, JobStatus

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting() -> int:
    return int(tickets.broker().queue_size() or 0)


@pytest.fixture
def no_cluster(cluster_factory):
    """No cluster may take the tickets these tests count."""
    return cluster_factory


def test_jobs_enqueued_while_a_ticket_waits_share_it_and_one_ticket_runs_them_all(no_cluster):
    before = _waiting()
    ids = [services.enqueue(job_type="test-steps", params={"steps": 1}).pk for _ in range(5)]
    assert _waiting() == before + 1

    assert runner.run_next() == 5
    assert set(JobRun.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        JobStatus.SUCCESS
    }
    # It claimed a job while others were due: one more ticket for a second free worker.
    assert _waiting() == before + 2
    # A surplus ticket finds nothing and ends.
    assert runner.run_next(wait_for_due=0) == 0


def test_a_drain_cut_short_leaves_a_ticket_behind(no_cluster):
    with transaction.atomic():
        ids = [services.enqueue(job_type="test-steps", params={"steps": 1}).pk for _ in range(3)]
    tickets.clear_waiting()  # as if that ticket had been taken by another worker
    before = _waiting()

    assert runner.run_next(drain_for=0) == 1
    assert _waiting() == before + 1
    assert runner.run_next() == 2
    assert not JobRun.objects.filter(pk__in=ids).exclude(status=JobStatus.SUCCESS).exists()
