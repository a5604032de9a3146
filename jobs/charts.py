"""The history page's charts: runs per day by status, and durations per job type per day.

Each is one GROUP BY over the runs the history filter selects, by the day each run was
queued in the viewer's time zone (``HistoryFilters`` ranges over ``queued_at`` too), so a
chart costs one query whatever the table's size and returns at most ``MAX_DAYS`` times the statuses
(or the job types) rows. The local day is computed by the database itself: PostgreSQL with
``AT TIME ZONE``; SQLite, which knows no zones, with ``date(queued_at, '+N minutes')`` where N
is the zone's offset, one ``CASE`` branch per offset the range spans (a daylight-saving
change adds one). Django's own ``TruncDate`` on SQLite calls a Python function per row.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Avg, Case, Count, DateField, F, Func, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from jobs.models import FINISHED_STATUSES, JobRun, JobStatus
from jobs.queries import DurationSeconds, HistoryFilters

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo

    from django.db.models import Expression, QuerySet

# A chart shows at most this many days (the end of a longer range).
MAX_DAYS = 92
DEFAULT_DAYS = 30
# Job types drawn as lines; the rest are summed up in the table only.
MAX_SERIES = 8


def _offset_minutes(zone: ZoneInfo, at: datetime) -> int:
    offset = at.astimezone(zone).utcoffset() or timedelta()
    return round(offset.total_seconds() / 60)


def offset_pieces(zone: ZoneInfo, since: datetime, until: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offset (minutes) over [since, until): ``(from, offset)`` pieces, the
    first from ``since``. A change is looked for day by day, then found to the second by
    halving (zones change on whole seconds)."""
    offset = _offset_minutes(zone, since)
    pieces = [(since, offset)]
    at = since
    while at < until:
        step = min(at + timedelta(days=1), until)
        if _offset_minutes(zone, step) == offset:
            at = step
            continue
        low, high = math.floor(at.timestamp()), math.ceil(step.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if _offset_minutes(zone, datetime.fromtimestamp(middle, UTC)) == offset:
                low = middle
            else:
                high = middle
        at = datetime.fromtimestamp(high, UTC)
        offset = _offset_minutes(zone, at)
        pieces.append((at, offset))
    return pieces


class _SqliteDate(Func):
    function = "date"
    output_field = DateField()


def local_day(field: str, zone: ZoneInfo, since: datetime, until: datetime) -> Expression:
    """``field``'s calendar day in ``zone``, computed in SQL (see the module docstring)."""
    if connection.vendor != "sqlite":
        return TruncDate(field, tzinfo=zone)

    def shifted(minutes: int) -> _SqliteDate:
        return _SqliteDate(F(field), Value(f"{minutes:+d} minutes"))

    pieces = offset_pieces(zone, since, until)
    if len(pieces) == 1:
        return shifted(pieces[0][1])
    whens = [
        When(**{f"{field}__lt": start}, then=shifted(offset))
        for (_, offset), (start, _) in itertools.pairwise(pieces)
    ]
    return Case(*whens, default=shifted(pieces[-1][1]), output_field=DateField())


@dataclass(frozen=True)
class Series:
    label: str
    # One value per day of the chart; None: no run that day.
    values: list[float | None]
    # Which look the page gives it (colour, dash, marker): a status, or "1".."8".
    style: str


@dataclass(frozen=True)
class Chart:
    days: list[date]
    series: list[Series]
    # The range was longer than MAX_DAYS: the chart shows its last days.
    cut: bool = False

    def as_json(self) -> dict[str, Any]:
        """For the page's script: days as Unix seconds at UTC midnight (drawn as UTC)."""
        return {
            "x": [datetime.combine(day, time.min, tzinfo=UTC).timestamp() for day in self.days],
            "series": [dataclasses.asdict(s) for s in self.series],
        }


def chart_range(
    filters: HistoryFilters, *, now: datetime | None = None
) -> tuple[datetime, datetime, bool]:
    """The instants a chart spans: the filter's dates, by default the last ``DEFAULT_DAYS``
    days, at most ``MAX_DAYS`` days (the end of the range: ``cut``)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    until = filters.until or _day_start(today + timedelta(days=1))
    since = filters.since or _day_start(today - timedelta(days=DEFAULT_DAYS - 1))
    first_day = timezone.localtime(until - timedelta(microseconds=1)).date() - timedelta(
        days=MAX_DAYS - 1
    )
    earliest = _day_start(first_day)
    if since < earliest:
        return earliest, until, True
    return since, until, False


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _days(since: datetime, until: datetime) -> list[date]:
    first = timezone.localtime(since).date()
    last = timezone.localtime(until - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _runs(filters: HistoryFilters, since: datetime, until: datetime) -> QuerySet[Any]:
    ranged = dataclasses.replace(filters, since=since, until=until)
    zone = timezone.get_current_timezone()
    return ranged.apply(JobRun.objects.all()).annotate(
        day=local_day("queued_at", zone, since, until)
    )


STATUS_ORDER: Sequence[str] = (
    JobStatus.SUCCESS,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
    JobStatus.RUNNING,
    JobStatus.QUEUED,
)


def runs_per_day(filters: HistoryFilters, *, now: datetime | None = None) -> Chart:
    """How many runs were queued each day, per status (one GROUP BY)."""
    since, until, cut = chart_range(filters, now=now)
    days = _days(since, until)
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    for row in (
        _runs(filters, since, until).values("day", "status").annotate(n=Count("id")).order_by()
    ):
        counts[row["status"]][row["day"]] = row["n"]
    labels = dict(JobStatus.choices)
    series = [
        Series(str(labels[status]), [float(counts[status].get(d, 0)) for d in days], status)
        for status in STATUS_ORDER
        if status in counts
    ]
    return Chart(days, series, cut)


def durations_per_day(
    filters: HistoryFilters, *, labels: dict[str, str], now: datetime | None = None
) -> Chart:
    """The average run time of each job type's finished runs, per day (one GROUP BY)."""
    since, until, cut = chart_range(filters, now=now)
    days = _days(since, until)
    averages: dict[str, dict[date, float]] = defaultdict(dict)
    runs = _runs(filters, since, until).filter(
        status__in=FINISHED_STATUSES, started_at__isnull=False
    )
    for row in runs.values("day", "job_type").annotate(avg=Avg(DurationSeconds())).order_by():
        if row["avg"] is not None:
            averages[row["job_type"]][row["day"]] = max(0.0, float(row["avg"]))
    # The busiest types get lines of their own.
    ranked = sorted(averages, key=lambda t: (-len(averages[t]), t))[:MAX_SERIES]
    series = [
        Series(labels.get(job_type, job_type), [averages[job_type].get(d) for d in days], str(n))
        for n, job_type in enumerate(sorted(ranked, key=lambda t: labels.get(t, t)), start=1)
    ]
    return Chart(days, series, cut)
