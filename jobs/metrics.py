"""``/metrics``: the job system in the Prometheus text format, counted from the database.

Every figure comes from ``job_runs`` through aggregate SQL, so every web process shows the
same numbers for every cluster at once, and no row is read into Python:

* runs by job type and final status, duration (started → finished) and wait (queued →
  started, runs the queue ran) histograms from bucketed ``COUNT``s, retries (a person's:
  runs with ``retry_of``; the queue's own: attempts beyond the first), and the external
  services' requests, errors and rate-limit waits from ``JobRun.usage`` (whose names come
  from the data: the job system knows none) — all over *finished* runs, which never change;
* queued and running jobs per type, live (the claim index's prefix).

A finished run is counted once, in one of two places. The maintenance moves runs that ended
more than ``SETTLE`` ago into ``job_metric_totals`` (``roll_up``: an ``INSERT … SELECT …
GROUP BY`` per time window, the window's end moved by a conditional UPDATE in the same
transaction, so concurrent passes never count a window twice); a scrape adds those totals
to the runs that ended since (the ``finished_at`` index), in one statement, one snapshot.
A scrape thus reads a few hundred total rows plus the last minute or so of runs, whatever the
size of the history; and the counters never go down when old history is pruned (pruning
never deletes runs that are not rolled up yet).

``SETTLE`` is the margin for a run whose end commits a moment after its ``finished_at``
(clock skew between hosts included): it must outlast the longest such delay.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from jobs import registry
from jobs.models import ACTIVE_STATUSES, FINISHED_STATUSES, JobMetricsRollup, JobRun, JobStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

logger = logging.getLogger(__name__)

DURATION_BUCKETS = (0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)
WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
SETTLE = timedelta(seconds=60)
# A roll-up transaction covers at most this much time (SQLite holds its write lock for it).
ROLLUP_STEP = timedelta(hours=6)
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
_USAGE = {"requests": "provider_requests", "errors": "provider_errors"}
_USAGE_WAIT = "provider_wait"


# -- SQL ---------------------------------------------------------------------------------------
# Assembled from constants only (the vendor's date arithmetic, bucket bounds, status names);
# every value is a bound parameter.
def _le(bound: float) -> str:
    """A bucket bound as Prometheus writes it: ``0.1``, ``1.0``, ``+Inf``."""
    return "+Inf" if bound == float("inf") else repr(float(bound))


def _seconds(end: str, start: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - {start}))::double precision"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def _bucket(expr: str, bounds: Iterable[float]) -> str:
    """The ``le`` label of the bucket ``expr`` falls in (non-cumulative; the collector adds up)."""
    cases = " ".join(f"WHEN {expr} <= {b!r} THEN '{_le(b)}'" for b in bounds)
    return f"CASE {cases} ELSE '+Inf' END"


def _usage_arms() -> list[str]:
    """Per service: the sum of each counter in ``usage`` ({name: {requests, errors, …}})."""
    if connection.vendor == "postgresql":
        source = "f CROSS JOIN LATERAL jsonb_each(f.usage) AS u(name, counts)"
        nonempty = "f.usage <> '{}'::jsonb"

        def field(key: str) -> str:
            return f"COALESCE((u.counts->>'{key}')::double precision, 0)"

    else:
        source = "f, json_each(f.usage) AS u"
        nonempty = "f.usage <> '{}'"

        def field(key: str) -> str:
            return f"COALESCE(json_extract(u.value, '$.{key}'), 0)"

    name = "u.name" if connection.vendor == "postgresql" else "u.key"
    metrics = [*_USAGE.items(), ("wait_seconds", _USAGE_WAIT)]
    return [
        f"SELECT '{metric}', f.job_type, '', {name}, SUM({field(key)}) FROM {source} "
        f"WHERE {nonempty} GROUP BY f.job_type, {name}"
        for key, metric in metrics
    ]


def _finished(where: str) -> tuple[str, str]:
    """``WITH f …`` (the finished runs matching ``where``) and the ``UNION ALL`` of the
    aggregates over them, as (metric, job_type, status, label, value) rows."""
    statuses = ", ".join(f"'{s}'" for s in FINISHED_STATUSES)
    duration = _seconds("finished_at", "started_at")
    wait = _seconds("started_at", "queued_at")
    cte = (
        "WITH f AS (SELECT job_type, status, attempt, retry_of_id, usage, "
        f"CASE WHEN started_at IS NULL THEN NULL ELSE {duration} END AS d, "
        # Direct runs (CLI, cron) never wait in the queue.
        f"CASE WHEN started_at IS NULL OR direct THEN NULL ELSE {wait} END AS w "
        f"FROM job_runs WHERE status IN ({statuses}) AND {where})"
    )
    d, w = _bucket("d", DURATION_BUCKETS), _bucket("w", WAIT_BUCKETS)
    arms = [
        "SELECT 'runs' AS metric, job_type, status, '' AS label, COUNT(*) AS value "
        "FROM f GROUP BY job_type, status",
        f"SELECT 'duration', job_type, status, {d}, COUNT(*) FROM f WHERE d IS NOT NULL "
        f"GROUP BY job_type, status, {d}",
        "SELECT 'duration_sum', job_type, status, '', SUM(d) FROM f WHERE d IS NOT NULL "
        "GROUP BY job_type, status",
        f"SELECT 'wait', job_type, '', {w}, COUNT(*) FROM f WHERE w IS NOT NULL "
        f"GROUP BY job_type, {w}",
        "SELECT 'wait_sum', job_type, '', '', SUM(w) FROM f WHERE w IS NOT NULL GROUP BY job_type",
        "SELECT 'retries', job_type, '', 'manual', COUNT(*) FROM f "
        "WHERE retry_of_id IS NOT NULL GROUP BY job_type",
        "SELECT 'retries', job_type, '', 'automatic', SUM(attempt - 1) FROM f "
        "WHERE attempt > 1 GROUP BY job_type",
        *_usage_arms(),
    ]
    return cte, " UNION ALL ".join(arms)


def _scrape_sql(since: datetime) -> tuple[str, list[Any]]:
    """The scrape's statement; ``since`` is the roll-up's end as read just before.

    The runs since the roll-up are those with ``finished_at >= since`` *and* at or after the
    roll-up's end as this statement's snapshot sees it (which moves only forwards): the
    second keeps totals and recent runs consistent should a roll-up commit in between; the
    first, a plain value, lets PostgreSQL's planner see how few rows that is — with only the
    subquery it assumed a third of the table and scanned it all (0.9 s at 1,000,000 rows).
    """
    cte, finished = _finished(
        "finished_at >= %s AND finished_at >= COALESCE((SELECT rolled_up_until "
        "FROM job_metric_rollup WHERE id = 1), %s)"
    )
    # Materialized, so that the active jobs are found through the claim index (status leads
    # it): grouping job_runs by job_type directly made SQLite walk the whole (job_type, id)
    # index to save a sort.
    active_cte = (
        ", a AS MATERIALIZED (SELECT job_type, status, direct FROM job_runs "
        f"WHERE status IN ({', '.join(['%s'] * len(ACTIVE_STATUSES))}))"
    )
    active = (
        "SELECT 'queued', job_type, '', '', COUNT(*) FROM a "
        "WHERE status = %s AND direct = %s GROUP BY job_type "
        "UNION ALL SELECT 'running', job_type, '', '', COUNT(*) FROM a "
        "WHERE status = %s GROUP BY job_type"
    )
    sql = (
        f"{cte}{active_cte} SELECT metric, job_type, status, label, SUM(value) FROM ("
        "SELECT metric, job_type, status, label, value FROM job_metric_totals "
        f"UNION ALL {finished} UNION ALL {active}"
        ") AS m GROUP BY metric, job_type, status, label"
    )
    queued, running = JobStatus.QUEUED.value, JobStatus.RUNNING.value
    statuses = [status.value for status in ACTIVE_STATUSES]
    params = [_moment(since), _moment(_BEGINNING), *statuses, queued, False, running]
    return sql, params


def _moment(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


Row = tuple[str, str, str, str, float]


def scrape_rows() -> list[Row]:
    """(metric, job_type, status, label, value) for everything ``/metrics`` shows: totals,
    recent runs and the queue in one statement (one snapshot), after a primary-key read of
    where the roll-up stands."""
    since = JobMetricsRollup.objects.filter(pk=1).values_list("rolled_up_until", flat=True)
    sql, params = _scrape_sql(since.first() or _BEGINNING)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(m, t, s, lbl, float(v or 0)) for m, t, s, lbl, v in cursor.fetchall()]


# -- roll-up -----------------------------------------------------------------------------------
def rolled_up_until() -> datetime:
    """Finished runs that ended before this are in the totals (the beginning of time if none)."""
    found = JobMetricsRollup.objects.filter(pk=1).values_list("rolled_up_until", flat=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            JobMetricsRollup.objects.create(pk=1, rolled_up_until=_BEGINNING)
    except IntegrityError:  # another process created it first
        pass
    return JobMetricsRollup.objects.values_list("rolled_up_until", flat=True).get(pk=1)


def roll_up(
    *,
    settle: timedelta = SETTLE,
    step: timedelta = ROLLUP_STEP,
    clock: Callable[[], datetime] = timezone.now,
) -> int:
    """Move runs that finished before ``clock() - settle`` into the totals; the number of
    windows (INSERTs) it took, 0 when no run ended since the last pass. Safe to run in
    several processes at once."""
    until = clock() - settle
    windows = 0
    while (start := rolled_up_until()) < until:
        # Skip empty stretches (the first pass starts at the beginning of time).
        first = (
            JobRun.objects.filter(finished_at__gte=start)
            .order_by("finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
        end = until if first is None else min(until, max(first, start) + step)
        cte, finished = _finished("finished_at >= %s AND finished_at < %s")
        with transaction.atomic():
            if (
                JobMetricsRollup.objects.filter(pk=1, rolled_up_until=start).update(
                    rolled_up_until=end
                )
                != 1
            ):
                return windows  # another pass moved it meanwhile: it carries on
            if first is None or first >= end:
                continue  # no run ended in the window: moving its end was all
            with connection.cursor() as cursor:
                # "WHERE true": SQLite's parser needs it before an upsert's ON CONFLICT.
                cursor.execute(
                    f"{cte} INSERT INTO job_metric_totals (metric, job_type, status, label, "
                    f"value) SELECT * FROM ({finished}) AS a WHERE true "
                    "ON CONFLICT (metric, job_type, status, label) "
                    "DO UPDATE SET value = job_metric_totals.value + excluded.value",
                    [_moment(start), _moment(end)],
                )
        windows += 1
    return windows


# -- the collector -----------------------------------------------------------------------------
def _cumulative(counts: dict[str, float], bounds: Iterable[float]) -> list[tuple[str, float]]:
    """Cumulative ``(le, count)`` pairs; a stored bound no longer configured counts in the next
    configured bucket at or above it."""
    by_bound = sorted((float(le), n) for le, n in counts.items())
    buckets = []
    for bound in [*bounds, float("inf")]:
        buckets.append((_le(bound), sum(n for le, n in by_bound if le <= bound)))
    return buckets


class JobsCollector:
    """A ``prometheus_client`` collector that asks the database at each scrape."""

    def describe(self) -> list[Metric]:
        # Registering must not run the query.
        return []

    def collect(self) -> Iterator[Metric]:
        rows = scrape_rows()
        yield from build_families(rows, job_types=[t.name for t in registry.all_types()])


def build_families(rows: list[Row], *, job_types: Iterable[str] = ()) -> Iterator[Metric]:
    runs = CounterMetricFamily(
        "jobs_runs", "Finished runs by job type and final status.", labels=["job_type", "status"]
    )
    retries = CounterMetricFamily(
        "jobs_retries",
        "Retries of finished runs: 'manual' runs repeat another run (a person's retry), "
        "'automatic' attempts beyond the first (the queue's own).",
        labels=["job_type", "kind"],
    )
    queued = GaugeMetricFamily(
        "jobs_queue_depth", "Jobs waiting in the queue (due or not).", labels=["job_type"]
    )
    running = GaugeMetricFamily("jobs_running", "Jobs running now.", labels=["job_type"])
    provider = {
        "provider_requests": CounterMetricFamily(
            "jobs_provider_requests",
            "Requests finished runs sent to external services.",
            labels=["provider", "job_type"],
        ),
        "provider_errors": CounterMetricFamily(
            "jobs_provider_errors",
            "Requests of finished runs that failed (no answer or an error answer).",
            labels=["provider", "job_type"],
        ),
        _USAGE_WAIT: CounterMetricFamily(
            "jobs_provider_rate_limit_wait_seconds",
            "Seconds finished runs waited for a provider's rate limit.",
            labels=["provider", "job_type"],
        ),
    }
    histograms: dict[str, dict[tuple[str, ...], dict[str, float]]] = {
        "duration": defaultdict(dict),
        "wait": defaultdict(dict),
    }
    sums: dict[str, dict[tuple[str, ...], float]] = {"duration": {}, "wait": {}}
    # Every registered type shows a queue depth, 0 included.
    known = list(job_types)
    live = {"queued": dict.fromkeys(known, 0.0), "running": dict.fromkeys(known, 0.0)}
    for metric, job_type, status, label, value in rows:
        if metric == "runs":
            runs.add_metric([job_type, status], value)
        elif metric == "retries":
            retries.add_metric([job_type, label], value)
        elif metric in live:
            live[metric][job_type] = value
        elif metric in provider:
            provider[metric].add_metric([label, job_type], value)
        elif metric in ("duration", "wait"):
            key: tuple[str, ...] = (job_type, status) if metric == "duration" else (job_type,)
            histograms[metric][key][label] = value
        elif metric in ("duration_sum", "wait_sum"):
            kind = metric.removesuffix("_sum")
            key = (job_type, status) if kind == "duration" else (job_type,)
            sums[kind][key] = value
    duration = HistogramMetricFamily(
        "jobs_run_duration_seconds",
        "Run time (started to finished) of finished runs.",
        labels=["job_type", "status"],
    )
    for key, counts in sorted(histograms["duration"].items()):
        duration.add_metric(
            list(key), _cumulative(counts, DURATION_BUCKETS), sums["duration"].get(key, 0.0)
        )
    wait = HistogramMetricFamily(
        "jobs_wait_seconds",
        "Time from queued to started of finished runs the queue ran (a retry's backoff included).",
        labels=["job_type"],
    )
    for key, counts in sorted(histograms["wait"].items()):
        wait.add_metric(list(key), _cumulative(counts, WAIT_BUCKETS), sums["wait"].get(key, 0.0))
    for job_type, value in sorted(live["queued"].items()):
        queued.add_metric([job_type], value)
    for job_type, value in sorted(live["running"].items()):
        running.add_metric([job_type], value)
    yield from (runs, duration, wait, queued, running, retries, *provider.values())
