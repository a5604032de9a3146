"""Cron expressions in a time zone, as a person reads them.

Pure functions, no database: validation whose message names the field that is wrong, the
moments an expression runs at across daylight-saving changes, and its reading in words.

Run times are wall-clock times in the configured time zone, turned into instants so that a
change of the clocks neither skips nor doubles a run:

* a time the clocks jump over (02:30 on the last Sunday of March in Berlin) runs at the
  moment of the jump (03:00 CEST), once — as Vixie cron does;
* a time the clocks pass twice (02:30 on the last Sunday of October) runs the first time
  only, unless the expression runs every hour (its hour field starts with ``*``): then both
  real hours get their run, as they do every other night.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from cron_descriptor import ExpressionDescriptor, Options
from croniter import croniter
from croniter.croniter import CroniterBadDateError, CroniterError

from jobs.registry import JobError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

MAX_LENGTH = 100  # Django-Q2's Schedule.cron
FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31, or L for the last day"),
    ("month", "1-12 or jan-dec"),
    ("day-of-week", "0-7 or sun-sat (0 and 7 are Sunday)"),
)
# Wider than any daylight-saving shift (two hours at most): around a change of the clocks, the
# neighbourhood in which the order of instants can differ from that of wall-clock times.
_MARGIN = timedelta(hours=3)
_SCAN_LIMIT = 20_000
_ZERO = timedelta()
_MINUTE = timedelta(minutes=1)
# croniter's random field value: a schedule must run at times a person can predict.
_RANDOM = re.compile(r"(^|[,/(-])[Rr]($|[,/(-])")


class CronError(JobError):
    """An expression that is not a valid five-field cron expression; says what is wrong."""


def normalize(expression: str) -> str:
    """The expression with single spaces between its five fields; ``CronError`` if invalid."""
    text = " ".join(str(expression).split())
    if not text:
        raise CronError(
            "Enter a cron expression: five fields, minute hour day-of-month month "
            "day-of-week, e.g. '0 5 * * *' for every day at 05:00."
        )
    if len(text) > MAX_LENGTH:
        raise CronError(f"A cron expression has at most {MAX_LENGTH} characters.")
    fields = text.split(" ")
    if len(fields) != len(FIELDS):
        raise CronError(
            f"A cron expression has five fields (minute hour day-of-month month "
            f"day-of-week); '{text}' has {len(fields)}."
        )
    for index, (value, (name, allowed)) in enumerate(zip(fields, FIELDS, strict=True)):
        probe = " ".join(value if i == index else "*" for i in range(len(FIELDS)))
        if _RANDOM.search(value) or not _expands(probe):
            raise CronError(
                f"The {name} field '{value}' is not valid: use {allowed}, a list (1,15), "
                f"a range (1-5), a step (*/15) or *."
            )
    if not _expands(text):
        raise CronError(f"'{text}' is not a valid cron expression.")
    try:
        croniter(text, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise CronError(f"'{text}' never runs: no month has that day.") from None
    return text


def _expands(expression: str) -> bool:
    try:
        croniter.expand(expression)
    except (CroniterError, ValueError):
        return False
    return True


def describe(expression: str) -> str:
    """The expression in words ("At 06:00, only on Monday"), 24-hour clock."""
    options = Options()
    options.use_24hour_time_format = True
    try:
        return str(ExpressionDescriptor(expression, options).get_description())
    except Exception:  # a reading is a courtesy: the expression itself is still shown
        return expression


def _every_hour(expression: str) -> bool:
    return expression.split(" ")[1].startswith("*")


def _exists(wall: datetime, tz: ZoneInfo) -> bool:
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def _instants(wall: datetime, tz: ZoneInfo, *, both_folds: bool) -> list[datetime]:
    """The instants (UTC) at which a run at wall-clock time ``wall`` happens."""
    first = wall.replace(tzinfo=tz).astimezone(UTC)
    if not _exists(wall, tz):
        # The clocks jumped over it: run at the jump, the first minute after it that exists.
        probe = wall
        while not _exists(probe := probe + timedelta(minutes=1), tz):
            pass
        return [probe.replace(tzinfo=tz).astimezone(UTC)]
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if both_folds and second != first:
        return [first, second]
    return [first]


def _earliest(wall: datetime, tz: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=tz).astimezone(UTC)


def _offsets(at: datetime, tz: ZoneInfo) -> list[timedelta]:
    """The zone's UTC offsets within the margin around ``at`` (one value, almost always)."""
    return [(at + d).astimezone(tz).utcoffset() or timedelta() for d in (-_MARGIN, _ZERO, _MARGIN)]


def _shift(at: datetime, tz: ZoneInfo) -> timedelta:
    """How far the clocks move within the margin around ``at``: by how much the order of
    wall-clock times and of instants can disagree there."""
    offsets = _offsets(at, tz)
    return max(offsets) - min(offsets)


def _wall(at: datetime, offset: timedelta) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None) + offset


def runs_after(expression: str, tz: ZoneInfo, after: datetime, count: int = 1) -> list[datetime]:
    """The next ``count`` run times strictly after ``after``, as aware UTC datetimes."""
    both = _every_hour(expression)
    # From the earliest wall-clock time that ``after`` can be near a change of the clocks.
    walls = croniter(expression, _wall(after, min(_offsets(after, tz))) - _MINUTE)
    found: set[datetime] = set()
    try:
        for _ in range(_SCAN_LIMIT):
            wall = walls.get_next(datetime)
            found.update(t for t in _instants(wall, tz, both_folds=both) if t > after)
            if len(found) >= count:
                # No later wall-clock time can come before this one by more than the shift.
                earliest = _earliest(wall, tz)
                if earliest - _shift(earliest, tz) > sorted(found)[count - 1]:
                    break
    except CroniterBadDateError:
        pass
    return sorted(found)[:count]


def latest_run(expression: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The latest run time at or before ``now`` (aware UTC), or None if there is none."""
    both = _every_hour(expression)
    walls = croniter(expression, _wall(now, max(_offsets(now, tz))) + _MINUTE)
    best: datetime | None = None
    try:
        for _ in range(_SCAN_LIMIT):
            wall = walls.get_prev(datetime)
            for t in _instants(wall, tz, both_folds=both):
                if t <= now and (best is None or t > best):
                    best = t
            if best is not None:
                earliest = _earliest(wall, tz)
                if earliest + _shift(earliest, tz) < best:
                    break
    except CroniterBadDateError:
        pass
    return best
