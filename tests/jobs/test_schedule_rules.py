"""The schedule rules and cron reckoning, with a clock and a daylight-saving time zone.

No database: ``rules.decide`` and ``cron`` are pure. Europe/Berlin changes its clocks on the
last Sunday of March (02:00 CET → 03:00 CEST) and of October (03:00 CEST → 02:00 CET); in
2026 those are 29 March and 25 October.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from jobs.models import ACTIVE_STATUSES
from jobs.schedules import cron, rules
from jobs.schedules.rules import Action, ActiveJob

BERLIN = ZoneInfo("Europe/Berlin")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(at: datetime) -> str:
    return at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z")


def simulate(
    expression: str,
    *,
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(minutes=5),
    enabled: bool = True,
    last_fire: datetime | None = None,
    tz: ZoneInfo = BERLIN,
) -> list[datetime]:
    """Call the schedule every ``step`` from ``start`` to ``end`` like a scheduler that looks
    often; each fire moves ``last_fire`` to its run time. Returns the fired run times."""
    fired: list[datetime] = []
    last = last_fire or start
    now = start
    while now <= end:
        decision = rules.decide(
            now=now, last_fire=last, cron_expression=expression, tz=tz, enabled=enabled
        )
        if decision.action is Action.FIRE:
            assert decision.slot is not None
            fired.append(decision.slot)
            last = decision.slot
        now += step
    return fired


# -- the rules -----------------------------------------------------------------------------------
def test_a_due_run_time_fires_once_and_a_second_call_for_it_does_nothing():
    last = utc(2026, 6, 1, 12, 0)
    now = utc(2026, 6, 2, 3, 0, 20)  # 05:00:20 CEST
    first = rules.decide(now=now, last_fire=last, cron_expression="0 5 * * *", tz=BERLIN)
    assert first.action is Action.FIRE
    assert local(first.slot) == "2026-06-02 05:00 CEST"
    assert local(first.next_run) == "2026-06-03 05:00 CEST"
    # Another cluster (or a task delivered twice) calls for the same run time.
    again = rules.decide(now=now, last_fire=first.slot, cron_expression="0 5 * * *", tz=BERLIN)
    assert again.action is Action.WAIT
    assert again.slot is None


def test_a_run_time_before_the_schedule_existed_never_fires():
    created = utc(2026, 6, 2, 8, 0)  # 10:00 CEST: today's 05:00 has passed
    decision = rules.decide(
        now=created + timedelta(minutes=1),
        last_fire=created,
        cron_expression="0 5 * * *",
        tz=BERLIN,
    )
    assert decision.action is Action.WAIT
    assert local(decision.next_run) == "2026-06-03 05:00 CEST"


@pytest.mark.parametrize("status", ACTIVE_STATUSES)
def test_a_due_run_time_whose_job_is_still_active_is_skipped_with_the_reason(status):
    decision = rules.decide(
        now=utc(2026, 6, 2, 3, 0, 30),
        last_fire=utc(2026, 6, 1, 3, 0),
        cron_expression="0 5 * * *",
        tz=BERLIN,
        active_job=ActiveJob(41, status),
    )
    assert decision.action is Action.SKIP
    assert decision.reason == f"job 41 still {status}"
    # The run time is dealt with: it is not made up once the job ends.
    assert local(decision.slot) == "2026-06-02 05:00 CEST"
    later = rules.decide(
        now=utc(2026, 6, 2, 4, 0),
        last_fire=decision.slot,
        cron_expression="0 5 * * *",
        tz=BERLIN,
    )
    assert later.action is Action.WAIT


def test_after_downtime_the_missed_run_fires_once_at_start_up_not_once_per_missed_run():
    # Down from Monday 10:00 to Thursday 09:00: three 05:00 runs missed.
    down = utc(2026, 6, 1, 8, 0)
    up = utc(2026, 6, 4, 7, 0)
    first = rules.decide(now=up, last_fire=down, cron_expression="0 5 * * *", tz=BERLIN)
    assert first.action is Action.FIRE
    assert local(first.slot) == "2026-06-04 05:00 CEST"  # the latest missed one, once
    fired = simulate("0 5 * * *", start=up, end=up + timedelta(hours=12), last_fire=first.slot)
    assert fired == []
    # An hourly schedule down for a day catches up once too.
    hourly = simulate("0 * * * *", start=up, end=up + timedelta(minutes=30), last_fire=down)
    assert [local(t) for t in hourly] == ["2026-06-04 09:00 CEST"]


def test_a_disabled_schedule_never_fires():
    start = utc(2026, 10, 20, 0, 0)
    assert simulate("* * * * *", start=start, end=start + timedelta(days=1), enabled=False) == []
    decision = rules.decide(
        now=start + timedelta(days=1),
        last_fire=start,
        cron_expression="* * * * *",
        tz=BERLIN,
        enabled=False,
    )
    assert decision.action is Action.WAIT
    assert decision.reason == "the schedule is disabled"


# -- daylight saving ------------------------------------------------------------------------------
def test_spring_forward_runs_a_time_the_clocks_skip_once_at_the_jump():
    # 02:30 does not exist on 29 March 2026 in Berlin: it runs at 03:00 CEST, once.
    fired = simulate("30 2 * * *", start=utc(2026, 3, 27, 12), end=utc(2026, 3, 31, 12))
    assert [local(t) for t in fired] == [
        "2026-03-28 02:30 CET",
        "2026-03-29 03:00 CEST",
        "2026-03-30 02:30 CEST",
        "2026-03-31 02:30 CEST",
    ]


def test_fall_back_runs_a_time_the_clocks_pass_twice_once():
    fired = simulate("30 2 * * *", start=utc(2026, 10, 23, 12), end=utc(2026, 10, 27, 12))
    assert [local(t) for t in fired] == [
        "2026-10-24 02:30 CEST",
        "2026-10-25 02:30 CEST",  # not again at 02:30 CET, an hour later
        "2026-10-26 02:30 CET",
        "2026-10-27 02:30 CET",
    ]


@pytest.mark.parametrize(
    ("start", "runs"),
    [
        # 23 hours on 29 March, 25 on 25 October: one run per real hour either way.
        (utc(2026, 3, 28, 23), 23),
        (utc(2026, 10, 24, 22), 25),
    ],
)
def test_an_hourly_schedule_runs_every_real_hour_across_a_change(start, runs):
    fired = simulate(
        "0 * * * *",
        start=start,
        end=start + timedelta(hours=runs) - timedelta(minutes=1),
        last_fire=start - timedelta(minutes=1),
    )
    assert len(fired) == runs
    gaps = {b - a for a, b in pairwise(fired)}
    assert gaps == {timedelta(hours=1)}


def test_a_scheduler_calling_at_next_run_and_at_random_moments_fires_each_run_time_once():
    """Like Django-Q2: called once next_run has passed (up to 30 s late), plus calls from a
    second cluster and redelivered tasks at random moments, for two weeks across October's
    change; every run time fires exactly once and nothing else fires."""
    rng = random.Random(13)
    expression = "30 2 * * *"
    start, end = utc(2026, 10, 18), utc(2026, 11, 1)
    calls = []
    now, last = start, start
    fired: list[datetime] = []
    while now < end:
        calls.append(now)
        decision = rules.decide(now=now, last_fire=last, cron_expression=expression, tz=BERLIN)
        if decision.action is Action.FIRE:
            fired.append(decision.slot)
            last = decision.slot
        nxt = decision.next_run + timedelta(seconds=rng.uniform(0, 30))
        # Stray calls between now and the next run time (another cluster, a duplicate).
        now = min(nxt, now + timedelta(seconds=rng.uniform(1, 6 * 3600)))
    assert len(calls) > len(fired)
    assert fired == cron.runs_after(expression, BERLIN, start, 14)
    assert Counter(t.astimezone(BERLIN).date() for t in fired) == Counter(
        {d: 1 for d in (start.date() + timedelta(days=i) for i in range(14))}
    )


# -- cron expressions ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "Enter a cron expression"),
        ("   ", "Enter a cron expression"),
        ("* * *", "has five fields (minute hour day-of-month month day-of-week); '* * *' has 3"),
        ("0 5 * * * *", "has 6"),
        ("@daily", "has 1"),
        ("61 * * * *", "The minute field '61' is not valid: use 0-59"),
        ("0 25 * * *", "The hour field '25' is not valid: use 0-23"),
        ("0 5 0 * *", "The day-of-month field '0' is not valid"),
        ("0 5 * 13 *", "The month field '13' is not valid: use 1-12 or jan-dec"),
        ("0 5 * * 8", "The day-of-week field '8' is not valid: use 0-7 or sun-sat"),
        ("0 5 * * funday", "The day-of-week field 'funday' is not valid"),
        ("*/0 * * * *", "The minute field '*/0' is not valid"),
        ("R * * * *", "The minute field 'R' is not valid"),
        ("0 5 31 2 *", "'0 5 31 2 *' never runs: no month has that day"),
        ("0 5 * * 1; rm -rf /", "has 8"),
        ("0 " * 60, "at most 100 characters"),
    ],
)
def test_bad_expressions_say_what_is_wrong(expression, message):
    with pytest.raises(cron.CronError, match=re.escape(message)):
        cron.normalize(expression)


def test_good_expressions_are_normalised():
    assert cron.normalize("  0   5 * *  mon-fri ") == "0 5 * * mon-fri"
    assert cron.normalize("0 0 29 2 *") == "0 0 29 2 *"  # leap days do come round


@pytest.mark.parametrize(
    ("expression", "reading"),
    [
        ("0 5 * * *", "At 05:00"),
        ("0 6 * * 1", "At 06:00, only on Monday"),
        ("0 * * * *", "Every hour"),
        ("* * * * *", "Every minute"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 6 * * 1-5", "At 06:00, Monday through Friday"),
    ],
)
def test_expressions_read_in_words(expression, reading):
    assert cron.describe(expression) == reading


def test_next_runs_are_instants_in_the_zone():
    runs = cron.runs_after("0 6 * * 1", BERLIN, utc(2026, 10, 20), 3)
    assert [local(t) for t in runs] == [
        "2026-10-26 06:00 CET",
        "2026-11-02 06:00 CET",
        "2026-11-09 06:00 CET",
    ]
    assert all(t.tzinfo is UTC for t in runs)
    assert cron.latest_run("0 6 * * 1", BERLIN, utc(2026, 10, 26, 5, 0)) == utc(2026, 10, 26, 5, 0)
