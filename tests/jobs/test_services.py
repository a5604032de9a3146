from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from jobs import live, queries, selectors, services, tickets
from jobs.models import JobRun, JobStatus, Priority, Trigger
from jobs.registry import JobError, JobParamsError, UnknownJobType
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db


def test_enqueue_records_a_queued_job_and_pushes_a_ticket_on_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        job = services.enqueue(job_type="test-steps", params={"steps": "3"}, trigger=Trigger.WEB)
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.params["steps"] == 3
    assert job.window == "test-steps"
    assert job.priority == Priority.MANUAL
    assert job.trigger == Trigger.WEB


@pytest.mark.parametrize(
    ("job_type", "params", "error"),
    [
        ("nope", {}, UnknownJobType),
        ("test-steps", {"steps": "x"}, JobParamsError),
        ("test-steps", {"steps": 10**7}, JobParamsError),
        ("test-steps", {"bogus": 1}, JobParamsError),
    ],
)
def test_bad_input_records_nothing(job_type, params, error, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(error):
        services.enqueue(job_type=job_type, params=params)
    assert not callbacks
    assert not JobRun.objects.exists()


def test_scheduled_jobs_wait_behind_manual_ones():
    job = services.enqueue(job_type="test-steps", trigger=Trigger.SCHEDULE)
    assert job.priority == Priority.SCHEDULED


def test_claim_takes_priority_then_fifo():
    base = timezone.now() - timedelta(minutes=1)
    first = JobRunFactory(queued_at=base)
    second = JobRunFactory(queued_at=base + timedelta(seconds=1))
    urgent = JobRunFactory(queued_at=base + timedelta(seconds=2), priority=Priority.URGENT)
    claimed = [services.claim_next(worker="w:1") for _ in range(4)]
    assert [j.pk if j else None for j in claimed] == [urgent.pk, first.pk, second.pk, None]
    assert all(j.status == JobStatus.RUNNING and j.attempt == 1 for j in claimed if j)


def test_claim_skips_jobs_that_are_not_due_and_direct_runs():
    JobRunFactory(run_after=timezone.now() + timedelta(minutes=5))
    JobRunFactory(direct=True, status=JobStatus.QUEUED)
    assert services.claim_next() is None


def test_cancel_a_queued_job_ends_it_at_once():
    job = JobRunFactory()
    assert services.cancel_job(job_id=job.pk).status == JobStatus.CANCELLED
    assert services.claim_next() is None


def test_cancel_a_running_job_asks_it_to_stop():
    job = JobRunFactory(status=JobStatus.RUNNING)
    cancelled = services.cancel_job(job_id=job.pk)
    assert cancelled.status == JobStatus.RUNNING
    assert cancelled.cancel_requested_at is not None
    assert live.cancel_requested(job.pk)


def test_cancelling_a_finished_or_unknown_job_is_an_error():
    job = JobRunFactory(status=JobStatus.SUCCESS, finished_at=timezone.now())
    with pytest.raises(services.JobAlreadyFinished, match="already finished"):
        services.cancel_job(job_id=job.pk)
    with pytest.raises(selectors.JobNotFound, match="no job with id 424242"):
        services.cancel_job(job_id=424242)
    assert JobRun.objects.get(pk=job.pk).cancel_requested_at is None


def test_cancel_running_counts_the_jobs_it_asked():
    JobRunFactory.create_batch(3, status=JobStatus.RUNNING)
    JobRunFactory(status=JobStatus.QUEUED)
    assert services.cancel_running() == 3
    assert services.cancel_running() == 0  # already asked


def test_queue_stats_has_the_seed_shape():
    JobRunFactory.create_batch(3)
    JobRunFactory(status=JobStatus.RUNNING)
    JobRunFactory(status=JobStatus.RUNNING, direct=True, trigger=Trigger.CLI)
    JobRunFactory(status=JobStatus.SUCCESS)
    assert selectors.queue_stats() == {"pending": 3, "size": 4, "active": 1, "concurrency": 2}


def test_job_metrics_per_type_and_window():
    now = timezone.now()
    for seconds in range(1, 21):
        JobRunFactory(
            status=JobStatus.SUCCESS,
            started_at=now - timedelta(seconds=seconds),
            finished_at=now,
        )
    JobRunFactory(status=JobStatus.FAILED, started_at=now, finished_at=now)
    (metrics,) = queries.type_metrics(queries.HistoryFilters())
    assert (metrics.job_type, metrics.runs, metrics.failures) == ("test-steps", 21, 1)
    # The database computes durations (julianday on SQLite: to the millisecond or so).
    assert metrics.p95_seconds == pytest.approx(19, abs=0.01)
    assert metrics.avg_seconds == pytest.approx(sum(range(1, 21)) / 21, abs=0.01)


# -- enqueue_many (issue 17) ----------------------------------------------------------------
def test_enqueue_many_queues_every_run_in_order_with_one_ticket(
    django_capture_on_commit_callbacks,
):
    tickets.clear_waiting()
    waiting = tickets.broker().queue_size()
    later = timezone.now() + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        runs = services.enqueue_many(
            requests=[
                services.JobRequest("test-steps", {"steps": "3"}),
                services.JobRequest("test-steps", {"steps": 4}, priority=Priority.URGENT),
                services.JobRequest("test-unique", {"steps": 1}),
                services.JobRequest("test-steps", run_after=later),
            ],
            trigger=Trigger.SCHEDULE,
        )
    assert len(callbacks) == 1
    assert tickets.broker().queue_size() == waiting + 1
    stored = {run.pk: run for run in JobRun.objects.all()}
    assert [run.pk for run in runs] == sorted(stored)  # ids follow the order asked: FIFO
    assert [stored[run.pk].params.get("steps") for run in runs] == [3, 4, 1, 10]
    assert [stored[run.pk].priority for run in runs] == [
        Priority.SCHEDULED,
        Priority.URGENT,
        Priority.SCHEDULED,
        Priority.SCHEDULED,
    ]
    assert {run.status for run in stored.values()} == {JobStatus.QUEUED}
    assert {run.trigger for run in stored.values()} == {Trigger.SCHEDULE}
    assert stored[runs[2].pk].dedupe_key == "test-unique"
    assert stored[runs[3].pk].run_after == later


def test_enqueue_many_deduplicates_within_the_burst_and_against_active_jobs(
    django_capture_on_commit_callbacks,
):
    active = JobRunFactory(job_type="test-unique", params={"steps": 1}, dedupe_key="test-unique")
    with django_capture_on_commit_callbacks() as callbacks:
        runs = services.enqueue_many(
            requests=[services.JobRequest("test-unique"), services.JobRequest("test-unique")]
        )
    assert [run.pk for run in runs] == [active.pk, active.pk]
    assert all(run.deduplicated for run in runs)
    assert JobRun.objects.count() == 1
    assert not callbacks  # nothing new: no ticket

    active.status = JobStatus.SUCCESS
    active.save()
    first, second, plain = services.enqueue_many(
        requests=[
            services.JobRequest("test-unique"),
            services.JobRequest("test-unique"),
            services.JobRequest("test-steps"),
        ]
    )
    assert not first.deduplicated and second.deduplicated and second.pk == first.pk
    assert not plain.deduplicated
    assert JobRun.objects.filter(status=JobStatus.QUEUED).count() == 2


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (services.JobRequest("nope"), UnknownJobType),
        (services.JobRequest("test-steps", {"steps": "x"}), JobParamsError),
        (services.JobRequest("test-steps", priority=99), JobError),
    ],
)
def test_enqueue_many_with_one_bad_request_records_nothing(
    bad, error, django_capture_on_commit_callbacks
):
    good = services.JobRequest("test-steps")
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(error):
        services.enqueue_many(requests=[good, good, bad, good])
    assert not callbacks
    assert not JobRun.objects.exists()


def test_enqueue_many_is_rolled_back_with_the_callers_transaction(
    django_capture_on_commit_callbacks,
):
    tickets.clear_waiting()
    waiting = tickets.broker().queue_size()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.enqueue_many(
            requests=[services.JobRequest("test-steps"), services.JobRequest("test-unique")]
        )
        raise RuntimeError("the caller fails after enqueuing")
    assert not callbacks
    assert not JobRun.objects.exists()
    assert tickets.broker().queue_size() == waiting
