"""Read-only queries behind the web pages: each is one indexed query, whatever the table size.

``selectors`` holds the reads the whole job system shares; these are shaped for the screens
(the dashboard's live region, the history table and its metrics) and stay fast on a
``job_runs`` table of hundreds of thousands of rows: no OFFSET, no COUNT(*), no full scans.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Avg, Case, Count, F, FloatField, Func, Q, Value, When

from jobs.models import ACTIVE_STATUSES, FINISHED_STATUSES, JobRun, JobStatus

if TYPE_CHECKING:
    from datetime import datetime

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

# The columns a table row shows; params and result (JSON) are left in the database.
LIST_FIELDS = (
    "id",
    "job_type",
    "window",
    "status",
    "trigger",
    "direct",
    "priority",
    "attempt",
    "max_attempts",
    # A queued card says when a retry's next attempt is due.
    "run_after",
    "queued_at",
    "started_at",
    "finished_at",
    "progress_current",
    "progress_total",
    "progress_message",
    "source_counts",
    "error",
    "cancel_requested_at",
)


def active_jobs(*, limit: int = 50) -> list[JobRun]:
    """Running jobs first, then queued ones in the order the claim takes them.

    Served by the claim index (``status`` leads it); returns at most ``limit`` + 1 rows so the
    caller can tell that there are more without counting.
    """
    return list(
        JobRun.objects.filter(status__in=ACTIVE_STATUSES)
        .only(*LIST_FIELDS)
        .annotate(
            running_first=Case(
                When(status=JobStatus.RUNNING, then=Value(0)),
                default=Value(1),
            )
        )
        .order_by("running_first", "priority", "queued_at", "id")[: limit + 1]
    )


def recent_finished(*, limit: int = 10) -> list[JobRun]:
    """The newest finished runs: a backward walk of the primary key that stops at ``limit``.
    With their results: the dashboard tells how each ended in words."""
    return list(
        JobRun.objects.filter(status__in=FINISHED_STATUSES)
        .only(*LIST_FIELDS, "result")
        .order_by("-id")[:limit]
    )


def direct_running() -> dict[str, int]:
    """Runs started from a terminal or cron that are running now, per trigger (they take no
    worker slot, so the queue's figures leave them out)."""
    rows = (
        JobRun.objects.filter(status=JobStatus.RUNNING, direct=True)
        .values("trigger")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["trigger"]: row["n"] for row in rows}


@dataclass(frozen=True)
class HistoryFilters:
    job_type: str = ""
    status: str = ""
    trigger: str = ""
    # Half-open range over ``queued_at``: [since, until).
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, qs: QuerySet[JobRun]) -> QuerySet[JobRun]:
        if self.job_type:
            qs = qs.filter(job_type=self.job_type)
        if self.status:
            qs = qs.filter(status=self.status)
        if self.trigger:
            qs = qs.filter(trigger=self.trigger)
        if self.since is not None:
            qs = qs.filter(queued_at__gte=self.since)
        if self.until is not None:
            qs = qs.filter(queued_at__lt=self.until)
        return qs


@dataclass(frozen=True)
class HistoryPage:
    rows: list[JobRun]
    # Keyset cursors: the id to pass as ``before`` (older rows) or ``after`` (newer rows).
    older: int | None
    newer: int | None


def history_queryset(
    filters: HistoryFilters, *, before: int | None = None, after: int | None = None
) -> QuerySet[JobRun]:
    """The history rows newest first, as one keyset-paginated query (see ``history_page``)."""
    qs = filters.apply(JobRun.objects.only(*LIST_FIELDS))
    if after is not None:
        return qs.filter(id__gt=after).order_by("id")
    if before is not None:
        qs = qs.filter(id__lt=before)
    return qs.order_by("-id")


def history_page(
    filters: HistoryFilters,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = 50,
) -> HistoryPage:
    """One page of history, newest first, by keyset pagination on the id.

    ``WHERE <filters> AND id < :before ORDER BY id DESC LIMIT size+1`` walks an index
    (``(job_type, id)``, ``(status, id)``, ``(trigger, id)`` or the primary key) from where the
    previous page stopped, so page 2,000 costs what page 1 costs; OFFSET and a total count would
    both read every earlier row. One row beyond the page tells whether there is another.
    """
    qs = history_queryset(filters, before=before, after=after)
    fetched = list(qs[: size + 1])
    more = len(fetched) > size
    rows = fetched[:size]
    if after is not None:
        # Walked upwards from ``after``: show newest first like every other page.
        rows.reverse()
        older = rows[-1].pk if rows else None
        newer = rows[0].pk if rows and more else None
    else:
        older = rows[-1].pk if rows and more else None
        newer = rows[0].pk if rows and before is not None else None
    return HistoryPage(rows=rows, older=older, newer=newer)


@dataclass(frozen=True)
class TypeMetrics:
    job_type: str
    window: str
    runs: int
    failures: int
    cancelled: int
    avg_seconds: float | None
    p95_seconds: float | None


class DurationSeconds(Func):
    """``finished_at - started_at`` in seconds, computed by the database itself.

    Django's portable datetime subtraction calls a Python function per row on SQLite, which
    made the metrics of 50,000 runs take over a second; ``julianday`` is native.
    """

    output_field = FloatField()

    def __init__(self) -> None:
        super().__init__(F("finished_at"), F("started_at"))

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
            **extra_context,
        )


def type_metrics(
    filters: HistoryFilters, *, finished_since: datetime | None = None
) -> list[TypeMetrics]:
    """Runs, failures, average and p95 duration per job type and window of the finished runs
    the history filter selects (and that ended at ``finished_since`` or later, if given:
    ``jobs stats --days``), computed in SQL.

    One GROUP BY for the counts and averages, then one ``ORDER BY duration LIMIT 1 OFFSET k``
    per group for the nearest-rank p95: the query count follows the number of job types, not
    the number of rows.
    """
    finished = filters.apply(JobRun.objects.filter(status__in=FINISHED_STATUSES))
    if finished_since is not None:
        finished = finished.filter(finished_at__gte=finished_since)
    timed = Q(started_at__isnull=False, finished_at__isnull=False)
    groups = (
        finished.values("job_type", "window")
        .annotate(
            runs=Count("id"),
            failures=Count("id", filter=Q(status=JobStatus.FAILED)),
            cancelled=Count("id", filter=Q(status=JobStatus.CANCELLED)),
            timed=Count("id", filter=timed),
            avg=Avg(DurationSeconds(), filter=timed),
        )
        .order_by("job_type", "window")
    )
    metrics = []
    for group in groups:
        p95 = None
        if group["timed"]:
            # Nearest rank: the smallest duration with at least 95 % of runs at or below it.
            rank = max(0, math.ceil(0.95 * group["timed"]) - 1)
            p95 = (
                finished.filter(timed, job_type=group["job_type"], window=group["window"])
                .annotate(duration=DurationSeconds())
                .order_by("duration")
                .values_list("duration", flat=True)[rank : rank + 1]
                .first()
            )
        metrics.append(
            TypeMetrics(
                job_type=group["job_type"],
                window=group["window"],
                runs=group["runs"],
                failures=group["failures"],
                cancelled=group["cancelled"],
                avg_seconds=group["avg"],
                p95_seconds=p95,
            )
        )
    return metrics
