"""Real clusters fire schedules through Django-Q2's own scheduler.

Django-Q2's scheduler looks every ~30 s, the first time 30 s after a cluster starts. So that
these tests wait for one look and not for a minute boundary too, their every-minute schedule
was created two minutes ago: its run time came while no cluster looked, and the next look
fires it (the "missed run at start-up" rule) — the same path as any due run time.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from jobs.models import JobRun, JobStatus, Trigger
from jobs.schedules import services as schedules
from jobs.schedules.models import JobSchedule, Outcome
from tests.cluster import wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

# One look of Django-Q2's scheduler (30 s after a start, then every 30 s) plus the time for
# its task and the job to run on a loaded machine.
FIRST_LOOK = 30.0
LOOK_MARGIN = 15.0


def every_minute_created_two_minutes_ago() -> JobSchedule:
    return schedules.create(
        name="every-minute",
        job_type="test-steps",
        cron_expression="* * * * *",
        params={"steps": 1, "step_ms": 0},
        now=timezone.now() - timedelta(minutes=2),
    )


def scheduled_jobs() -> list[JobRun]:
    return list(JobRun.objects.filter(trigger=Trigger.SCHEDULE).order_by("id"))


def test_a_cluster_fires_an_every_minute_schedule_and_records_one_scheduled_job(drained):
    started = time.monotonic()
    row = every_minute_created_two_minutes_ago()
    assert Schedule.objects.get(pk=row.pk).next_run < timezone.now()  # due
    job = wait_for(
        lambda: JobRun.objects.filter(trigger=Trigger.SCHEDULE, status=JobStatus.SUCCESS).first(),
        timeout=90 - (time.monotonic() - started),
        interval=0.2,
        what="the schedule to fire and its job to succeed",
    )
    elapsed = time.monotonic() - started
    print(f"fired and ran within {elapsed:.1f} s")
    assert (job.job_type, job.params["steps"]) == ("test-steps", 1)
    assert len(scheduled_jobs()) == 1
    record = schedules.get("every-minute")
    assert (record.last_outcome, record.last_job_id) == (Outcome.FIRED, job.pk)
    q_schedule = Schedule.objects.get(pk=row.pk)
    assert q_schedule.task  # Django-Q2's scheduler made the task
    next_run = q_schedule.next_run
    assert next_run > timezone.now() - timedelta(seconds=60)
    assert (next_run.second, next_run.microsecond) == (0, 0)  # the next minute boundary
    schedules.set_enabled("every-minute", False)


def daily_at_a_time_that_just_passed() -> JobSchedule:
    """Due now, and not again for a day: a second fire could only be a double."""
    passed = (timezone.now() - timedelta(minutes=1)).astimezone(schedules.zone())
    return schedules.create(
        name="daily",
        job_type="test-steps",
        cron_expression=f"{passed.minute} {passed.hour} * * *",
        params={"steps": 1, "step_ms": 0},
        now=timezone.now() - timedelta(minutes=2),
    )


def test_two_clusters_on_one_database_fire_a_run_time_once(cluster_factory, transactional_db):
    row = daily_at_a_time_that_just_passed()
    assert Schedule.objects.get(pk=row.pk).next_run < timezone.now()  # due
    # Both start before either is waited for: their schedulers look at about the same time.
    clusters = [cluster_factory.new("sched", wait=False) for _ in range(2)]
    for started in clusters:
        started.wait_started()
    up = time.monotonic()
    first = wait_for(
        lambda: JobRun.objects.filter(trigger=Trigger.SCHEDULE).first(),
        timeout=FIRST_LOOK + LOOK_MARGIN,
        interval=0.2,
        what="one of the clusters to fire the schedule",
    )
    # An observation window, not a synchronisation: until both clusters have looked at least
    # once since the run time came (and their tasks ran), a second fire would show here.
    deadline = up + FIRST_LOOK + 5
    while time.monotonic() < deadline:
        assert [j.pk for j in scheduled_jobs()] == [first.pk]
        time.sleep(0.5)
    record = schedules.get("daily")
    assert (record.last_outcome, record.last_job_id) == (Outcome.FIRED, first.pk)
    assert record.schedule.next_run > timezone.now() + timedelta(hours=23)
