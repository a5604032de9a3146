"""What a schedule does when it is called: the rules a person can predict, as one pure function.

The cluster's scheduler calls a schedule when its ``next_run`` has passed; this decides, from
a clock and what was recorded, whether that fires a job, is recorded as skipped, or does
nothing. No database, no Django-Q2: tests drive it with a clock and a time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from jobs.schedules import cron

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo


class Action(StrEnum):
    FIRE = "fire"  # enqueue the job for ``slot``
    SKIP = "skip"  # record ``slot`` as skipped, with the reason
    WAIT = "wait"  # nothing is due: record nothing


@dataclass(frozen=True)
class ActiveJob:
    """The schedule's previous job while it is still queued or running."""

    id: int
    status: str


@dataclass(frozen=True)
class Decision:
    action: Action
    # The run time this decision deals with (FIRE and SKIP); it is then done with.
    slot: datetime | None
    # When the schedule is due next (None: the expression never runs again).
    next_run: datetime | None
    reason: str = ""


def decide(
    *,
    now: datetime,
    last_fire: datetime,
    cron_expression: str,
    tz: ZoneInfo,
    enabled: bool = True,
    active_job: ActiveJob | None = None,
) -> Decision:
    """Decide what a schedule called at ``now`` does.

    ``last_fire`` is the latest run time already dealt with — fired or skipped — or, for a
    schedule that has not fired since it was created, enabled or given a new expression, the
    moment that happened (so that a run time before it never fires).

    * A run time is due when it lies after ``last_fire`` and at or before ``now``; calling
      again for a run time that was dealt with does nothing (a second cluster, a redelivered
      task, the clocks going back).
    * After downtime only the latest missed run time is due: it fires once, not once per
      missed run time.
    * Daylight saving: run times are those of ``jobs.schedules.cron`` (a time the clocks jump
      over runs once at the jump, a time they pass twice runs once).
    * A disabled schedule never fires.
    * A due run time whose previous job is still queued or running is skipped, with the
      reason, and not made up later: runs never pile up.
    """
    upcoming = cron.runs_after(cron_expression, tz, now, 1)
    next_run = upcoming[0] if upcoming else None
    if not enabled:
        return Decision(Action.WAIT, None, next_run, "the schedule is disabled")
    slot = cron.latest_run(cron_expression, tz, now)
    if slot is None or slot <= last_fire:
        return Decision(Action.WAIT, None, next_run, "nothing is due")
    if active_job is not None:
        return Decision(
            Action.SKIP, slot, next_run, f"job {active_job.id} still {active_job.status}"
        )
    return Decision(Action.FIRE, slot, next_run)
