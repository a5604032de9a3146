"""Schedules on the database: installed by migrate, edited, enabled, fired, skipped, recorded.

``fire`` is what the cluster's scheduler calls; here it is called with a clock, the rows are
real. The cluster itself firing them is in ``test_schedules_cluster``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connections
from django.utils import timezone
from django_q.models import Schedule

from jobs import registry
from jobs.models import JobRun, JobStatus, Priority, Trigger
from jobs.schedules import DefaultSchedule, cron, rules
from jobs.schedules import services as schedules
from jobs.schedules.models import JobSchedule, Outcome
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db

SEED = {
    "daily-morning": ("playlist", {"window": "morning"}, "0 5 * * *"),
    "daily-afternoon": ("playlist", {"window": "afternoon"}, "0 5 * * *"),
    "daily-evening": ("playlist", {"window": "evening"}, "0 5 * * *"),
    "weekly-discovery": ("playlist", {"window": "discovery"}, "0 6 * * 1"),
    "weekly-throwback": ("playlist", {"window": "throwback"}, "0 6 * * 6"),
    "custom-playlists": ("custom-playlists", {}, "0 6 * * 0"),
    "cache-warm": ("cache-warm", {}, "0 3 * * 0"),
    "cache-refresh": ("cache-refresh", {}, "0 * * * *"),
}


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    return schedules.zone()


def migrate(settings) -> None:
    """What ``migrate`` does at its end, with the defaults switched on as outside the tests."""
    settings.PLAYLISTER_SCHEDULE_DEFAULTS = True
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")


def seed():
    return {
        r.name: (r.job_type, r.params, r.schedule.cron, schedules.is_enabled(r))
        for r in JobSchedule.objects.select_related("schedule")
    }


def steps_schedule(name="steps", expression="0 5 * * *", *, now=None, **params) -> JobSchedule:
    return schedules.create(
        name=name,
        job_type="test-steps",
        cron_expression=expression,
        params={"steps": 1, "step_ms": 0, **params},
        now=now,
    )


def at(row: JobSchedule):
    return Schedule.objects.get(pk=row.pk).next_run


def reload(row: JobSchedule) -> JobSchedule:
    return JobSchedule.objects.select_related("schedule").get(pk=row.pk)


# -- installed by migrate, restorable --------------------------------------------------------------
def test_migrate_installs_the_seeds_schedule_in_the_configured_time_zone(settings, berlin):
    migrate(settings)
    assert seed() == {name: (*spec, True) for name, spec in SEED.items()}
    row = schedules.get("weekly-discovery")
    assert row.schedule.func == schedules.FIRE_FUNC
    assert row.schedule.schedule_type == Schedule.CRON
    next_monday = row.schedule.next_run.astimezone(berlin)
    assert (next_monday.weekday(), next_monday.hour, next_monday.minute) == (0, 6, 0)
    assert next_monday > timezone.now()


def test_audiomuse_sync_is_installed_once_audiomuse_is_configured(settings):
    migrate(settings)
    assert "audiomuse-sync" not in seed()
    settings.PLAYLISTER_AUDIOMUSE_URL = "http://127.0.0.1:9"
    migrate(settings)
    assert seed()["audiomuse-sync"] == ("audiomuse-sync", {}, "0 4 * * *", True)


def test_a_later_migrate_keeps_a_persons_edits_and_installs_only_what_is_missing(settings):
    migrate(settings)
    schedules.set_cron("daily-morning", "15 7 * * 1-5")
    schedules.set_enabled("cache-refresh", False)
    JobSchedule.objects.filter(name="cache-warm").update(params={"concurrency": 4})
    Schedule.objects.filter(job_schedule__name="custom-playlists").delete()
    migrate(settings)
    now = seed()
    assert now["daily-morning"] == ("playlist", {"window": "morning"}, "15 7 * * 1-5", True)
    assert now["cache-refresh"][3] is False
    assert now["cache-warm"][1] == {"concurrency": 4}
    assert now["custom-playlists"] == (*SEED["custom-playlists"], True)
    assert JobSchedule.objects.count() == len(SEED)


def test_reset_restores_the_defaults_and_leaves_other_schedules_alone(settings):
    migrate(settings)
    settings.PLAYLISTER_SCHEDULE_DEFAULTS = False  # reset does not depend on it
    schedules.set_cron("daily-morning", "15 7 * * 1-5")
    schedules.set_enabled("cache-refresh", False)
    JobSchedule.objects.filter(name="cache-warm").update(params={"concurrency": 4})
    Schedule.objects.filter(job_schedule__name="custom-playlists").delete()
    mine = steps_schedule("mine")
    done = dict(schedules.reset())
    assert done["daily-morning"] == done["cache-refresh"] == done["cache-warm"] == "restored"
    assert done["custom-playlists"] == "created"
    assert done["daily-evening"] == "unchanged"
    assert seed() == {
        **{name: (*spec, True) for name, spec in SEED.items()},
        "mine": ("test-steps", mine.params, "0 5 * * *", True),
    }


def test_installing_the_same_defaults_from_two_processes_at_once_creates_each_once():
    # The unique name settles it: the loser's Django-Q2 row goes with its transaction.
    steps_schedule("daily-morning")  # installed by the other process meanwhile
    created = schedules._create_default(
        DefaultSchedule(name="daily-morning", job_type="test-steps", cron="0 6 * * *"),
        now=timezone.now(),
        using="default",
    )
    assert created is False
    assert Schedule.objects.filter(name="daily-morning").count() == 1


# -- editing --------------------------------------------------------------------------------------
def test_a_new_expression_moves_the_next_run_and_counts_from_now(berlin):
    created = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    row = steps_schedule(now=created)
    assert at(row) == datetime(2026, 6, 2, 3, 0, tzinfo=UTC)  # 05:00 CEST
    edited = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert schedules.set_cron("steps", "  30 6 * * 1 ", now=edited) is True
    row = reload(row)
    assert row.schedule.cron == "30 6 * * 1"
    assert at(row) == datetime(2026, 6, 8, 4, 30, tzinfo=UTC)  # next Monday 06:30 CEST
    assert row.last_fire == edited
    assert schedules.set_cron("steps", "30 6 * * 1", now=edited + timedelta(hours=1)) is False
    assert reload(row).last_fire == edited


@pytest.mark.parametrize("bad", ["", "0 5 * *", "0 24 * * *", "0 5 30 2 *", "0 5 * * * 2026"])
def test_a_bad_expression_changes_nothing(bad):
    row = steps_schedule()
    before = (reload(row).schedule.cron, at(row), reload(row).last_fire)
    with pytest.raises(cron.CronError):
        schedules.set_cron("steps", bad)
    assert (reload(row).schedule.cron, at(row), reload(row).last_fire) == before


def test_unknown_names_are_refused_with_the_known_ones():
    steps_schedule("steps")
    with pytest.raises(
        schedules.UnknownSchedule, match=r"no schedule named 'nope' \(known: steps\)"
    ):
        schedules.set_enabled("nope", False)


def test_disabling_leaves_it_to_nobody_and_enabling_counts_from_then(berlin):
    created = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    row = steps_schedule(now=created)
    assert schedules.set_enabled("steps", False, now=created) is True
    assert schedules.set_enabled("steps", False, now=created) is False
    assert reload(row).schedule.repeats == 0
    # Django-Q2's scheduler never selects it: .exclude(repeats=0).
    assert not Schedule.objects.exclude(repeats=0).filter(pk=row.pk).exists()
    enabled = datetime(2026, 6, 5, 9, 0, tzinfo=UTC)  # four 05:00 runs missed while disabled
    assert schedules.set_enabled("steps", True, now=enabled) is True
    row = reload(row)
    assert row.schedule.repeats == -1
    assert row.last_fire == enabled
    assert at(row) == datetime(2026, 6, 6, 3, 0, tzinfo=UTC)
    assert schedules.fire(row.pk, now=enabled + timedelta(minutes=1)).action is rules.Action.WAIT
    assert not JobRun.objects.exists()


# -- firing ---------------------------------------------------------------------------------------
def test_a_due_schedule_queues_its_job_with_trigger_schedule_and_records_it(berlin):
    row = steps_schedule(now=datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    now = datetime(2026, 6, 2, 3, 0, 25, tzinfo=UTC)
    decision = schedules.fire(row.pk, now=now)
    assert decision.action is rules.Action.FIRE
    job = JobRun.objects.get()
    assert (job.job_type, job.trigger, job.status) == ("test-steps", Trigger.SCHEDULE, "queued")
    assert job.priority == Priority.SCHEDULED  # below a person's jobs
    assert job.params["steps"] == 1
    row = reload(row)
    assert (row.last_outcome, row.last_job_id, row.last_run_at) == (Outcome.FIRED, job.pk, now)
    assert row.last_fire == datetime(2026, 6, 2, 3, 0, tzinfo=UTC)
    assert at(row) == datetime(2026, 6, 3, 3, 0, tzinfo=UTC)
    # The same run time again (a second cluster, a redelivered task): nothing.
    assert schedules.fire(row.pk, now=now + timedelta(seconds=20)).action is rules.Action.WAIT
    assert JobRun.objects.count() == 1


def test_a_due_schedule_whose_job_still_runs_is_skipped_not_piled_up(berlin):
    row = steps_schedule(now=datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    schedules.fire(row.pk, now=datetime(2026, 6, 2, 3, 0, 25, tzinfo=UTC))
    job = JobRun.objects.get()
    JobRun.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    decision = schedules.fire(row.pk, now=datetime(2026, 6, 3, 3, 0, 10, tzinfo=UTC))
    assert decision.action is rules.Action.SKIP
    row = reload(row)
    assert row.last_outcome == Outcome.SKIPPED
    assert row.last_reason == f"job {job.pk} still running"
    assert row.last_job_id == job.pk
    assert JobRun.objects.count() == 1
    # Once it ended, the next run time fires again; the skipped one is not made up.
    JobRun.objects.filter(pk=job.pk).update(status=JobStatus.SUCCESS)
    assert schedules.fire(row.pk, now=datetime(2026, 6, 3, 9, 0, tzinfo=UTC)).action == "wait"
    assert schedules.fire(row.pk, now=datetime(2026, 6, 4, 3, 0, 5, tzinfo=UTC)).action == "fire"
    assert JobRun.objects.count() == 2


def test_an_active_job_of_the_same_kind_started_by_a_person_makes_it_a_skip(berlin):
    row = schedules.create(
        name="unique",
        job_type="test-unique",
        cron_expression="0 5 * * *",
        now=datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
    )
    theirs = JobRunFactory(job_type="test-unique", params={"steps": 1}, dedupe_key="test-unique")
    schedules.fire(row.pk, now=datetime(2026, 6, 2, 3, 0, 25, tzinfo=UTC))
    row = reload(row)
    assert (row.last_outcome, row.last_reason) == (Outcome.SKIPPED, f"job {theirs.pk} still queued")
    assert JobRun.objects.count() == 1


def test_a_schedule_whose_parameters_no_longer_fit_records_the_failure(berlin):
    row = steps_schedule(now=datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    JobSchedule.objects.filter(pk=row.pk).update(params={"steps": "lots"})
    schedules.fire(row.pk, now=datetime(2026, 6, 2, 3, 0, 25, tzinfo=UTC))
    row = reload(row)
    assert row.last_outcome == Outcome.FAILED
    assert "steps: Enter a whole number." in row.last_reason
    assert not JobRun.objects.exists()
    assert at(row) == datetime(2026, 6, 3, 3, 0, tzinfo=UTC)


def test_a_schedule_disabled_after_the_scheduler_picked_it_does_not_fire(berlin):
    row = steps_schedule(now=datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    schedules.set_enabled("steps", False)
    decision = schedules.fire(row.pk, now=datetime(2026, 6, 2, 3, 0, 25, tzinfo=UTC))
    assert (decision.action, decision.reason) == (rules.Action.WAIT, "the schedule is disabled")
    assert not JobRun.objects.exists()
    assert reload(row).last_run_at is None


def test_djangoq2s_double_run_on_the_night_the_clocks_go_back_is_refused(berlin):
    """croniter (as Django-Q2 uses it) gives 02:30 CET after firing 02:30 CEST; our next_run
    does not, and a call at that time does nothing."""
    row = steps_schedule(expression="30 2 * * *", now=datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    first = schedules.fire(row.pk, now=datetime(2026, 10, 25, 0, 30, 20, tzinfo=UTC))
    assert first.action is rules.Action.FIRE
    assert at(row) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 CET the next night
    again = schedules.fire(row.pk, now=datetime(2026, 10, 25, 1, 30, 20, tzinfo=UTC))
    assert again.action is rules.Action.WAIT
    assert JobRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_for_one_run_time_fire_it_once(berlin):
    row = steps_schedule(now=datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    now = datetime(2026, 6, 2, 3, 0, 25, tzinfo=UTC)
    barrier = threading.Barrier(4)
    actions: list[str] = []

    def call() -> None:
        barrier.wait()
        try:
            actions.append(schedules.fire(row.pk, now=now).reason or "fired")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert JobRun.objects.count() == 1
    assert actions.count("fired") == 1
    # The others lost the claim, or read the schedule after the winner had committed.
    assert set(actions) <= {"fired", "fired already", "nothing is due"}


# -- run now --------------------------------------------------------------------------------------
def test_run_now_queues_for_a_person_and_leaves_the_run_times_alone():
    row = steps_schedule()
    before = (at(row), reload(row).last_fire)
    job = schedules.run_now("steps")
    assert (job.trigger, job.priority) == (Trigger.WEB, Priority.MANUAL)
    row = reload(row)
    assert (row.last_outcome, row.last_job_id) == (Outcome.MANUAL, job.pk)
    assert (at(row), row.last_fire) == before


def test_run_now_while_its_kind_is_active_returns_that_job():
    schedules.create(name="unique", job_type="test-unique", cron_expression="0 5 * * *")
    first = schedules.run_now("unique")
    again = schedules.run_now("unique")
    assert again.deduplicated and again.pk == first.pk
    row = schedules.get("unique")
    assert (row.last_outcome, row.last_reason) == (Outcome.SKIPPED, f"job {first.pk} still queued")


def test_creating_checks_the_name_job_type_parameters_and_expression():
    with pytest.raises(registry.JobError, match="lower-case letters"):
        schedules.create(name="Not A Slug", job_type="test-steps", cron_expression="0 5 * * *")
    with pytest.raises(registry.UnknownJobType):
        schedules.create(name="x", job_type="nope", cron_expression="0 5 * * *")
    with pytest.raises(registry.JobParamsError):
        schedules.create(
            name="x", job_type="test-steps", cron_expression="0 5 * * *", params={"wat": 1}
        )
    with pytest.raises(cron.CronError):
        schedules.create(name="x", job_type="test-steps", cron_expression="0 5 * *")
    assert not Schedule.objects.filter(func=schedules.FIRE_FUNC).exists()
