"""Issue 15: ``GET /metrics`` on 100,000 and 1,000,000 runs, p95.

The table is filled as ``bench_dashboard`` fills it (100,000 runs over 60 days, grown to
1,000,000 by copies), a fifth of the runs with provider usage and one in fifty a retry of
another. The finished runs are rolled up as the maintenance does (``jobs.metrics.roll_up``:
its first pass over the whole history is timed too), then ``/metrics`` is scraped with the
bearer token through Django's test ``Client``, in-process.

Anchor: ``GET /health`` through the same client (one trivial query). Rows without a goal:
the first roll-up, a scrape with 10,000 runs that ended in the last minute (not rolled up
yet: the most a scrape counts from ``job_runs`` itself at a high job rate), and a scrape with
nothing rolled up (every run counted from ``job_runs``: what the totals save).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

from bench.bench_dashboard import _fill, _grow
from bench.common import Row, Table, p50, p95_row, sized
from testkit.job_rows import analyze

if TYPE_CHECKING:
    from django.test import Client

    from bench.common import Context

GOAL_MS = 20.0
REPS = 60
RECENT_REPS = 20
TOKEN = "bench-metrics-token"
USAGE = (
    '{"Plex": {"requests": 14, "errors": 0, "wait_seconds": 0}, '
    '"Last.fm": {"requests": 2100, "errors": 12, "wait_seconds": 431.5}}'
)


def _timed(client: Client, path: str, reps: int, **headers: str) -> list[float]:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
    return times


def _decorate() -> None:
    """Provider usage on the cache-warm runs, a retry link on one run in fifty."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE job_runs SET usage = %s WHERE job_type = 'cache-warm'", [USAGE])
        cursor.execute(
            "UPDATE job_runs SET retry_of_id = id - 1 WHERE id %% %s = 0 AND status <> 'queued' "
            "AND id > (SELECT MIN(id) FROM job_runs)",
            [50],
        )
    analyze()


def _reset_roll_up() -> None:
    from jobs.models import JobMetricsRollup, JobMetricTotal

    JobMetricTotal.objects.all().delete()
    JobMetricsRollup.objects.all().delete()


def _roll_up() -> tuple[float, int]:
    from jobs import metrics

    started = time.perf_counter()
    windows = metrics.roll_up()
    return time.perf_counter() - started, windows


def _recent_runs(count: int) -> None:
    """``count`` runs that ended within the last minute (after the roll-up's watermark)."""
    from django.utils import timezone

    from jobs.models import JobRun, JobStatus, Trigger

    now = timezone.now()
    JobRun.objects.bulk_create(
        [
            JobRun(
                job_type="bench-noop",
                window="bench-noop",
                status=JobStatus.SUCCESS,
                trigger=Trigger.WEB,
                attempt=1,
                queued_at=now - timedelta(seconds=1 + i * 50 / count),
                run_after=now,
                started_at=now - timedelta(seconds=0.5 + i * 50 / count),
                finished_at=now - timedelta(seconds=i * 50 / count),
            )
            for i in range(count)
        ],
        batch_size=1000,
    )


def _measure(client: Client, size: int) -> tuple[list[Row], list[str]]:
    from jobs.models import JobMetricTotal

    auth = {"Authorization": f"Bearer {TOKEN}"}
    _reset_roll_up()
    seconds, windows = _roll_up()
    notes = [
        f"{size:,} rows: the first roll-up took {seconds:.1f} s in {windows} window(s) and left "
        f"{JobMetricTotal.objects.count()} total rows"
    ]
    _timed(client, "/metrics", 3, **auth)  # warm connections and caches
    floor = _timed(client, "/health", REPS)
    rows = [
        Row(
            figure=f"first roll-up of {size:,} runs",
            value=seconds * 1000,
            unit="ms",
            note=f"{windows} window(s); the maintenance does it once, then a minute at a time",
        ),
        p95_row(
            f"GET /metrics p95, {size:,} rows",
            _timed(client, "/metrics", REPS, **auth),
            floor,
            goal_ms=GOAL_MS,
        ),
    ]
    return rows, notes


def run(ctx: Context) -> list[Table]:
    from django.conf import settings
    from django.test import Client

    from jobs.models import JobRun

    settings.PLAYLISTER_METRICS_TOKEN = TOKEN
    client = Client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    small = sized(100_000, 1000)
    JobRun.objects.all().delete()
    _reset_roll_up()
    started = time.perf_counter()
    _fill(small)
    _decorate()
    notes = [f"filling {small:,} rows took {time.perf_counter() - started:.0f} s"]
    rows, measured = _measure(client, small)
    notes += measured
    _reset_roll_up()
    # One scrape, on the small table: it has no goal, and on 1,000,000 runs it took 14 to
    # 17 s (issue 17: the whole bench in 10 min); the small table shows what the totals save.
    floor = _timed(client, "/health", REPS)
    cold = _timed(client, "/metrics", 1, **auth)
    rows.append(
        Row(
            figure=f"GET /metrics with nothing rolled up, {small:,} rows",
            value=p50(cold),
            unit="ms",
            anchor="GET /health p50",
            anchor_value=p50(floor),
            note="1 scrape: every run counted from job_runs; what the totals save",
        )
    )
    _grow(9)
    large = JobRun.objects.count()
    more, measured = _measure(client, large)
    rows += more
    notes += measured

    floor = _timed(client, "/health", REPS)
    recent = sized(10_000, 100)
    _recent_runs(recent)
    rows.append(
        p95_row(
            f"GET /metrics p95, {large:,} rows + {recent:,} ended in the last minute",
            # No goal, 80 to 160 ms a scrape: fewer requests than the goal rows.
            _timed(client, "/metrics", RECENT_REPS, **auth),
            floor,
            goal_ms=None,
        )
    )
    return [
        Table(
            bench="metrics",
            title=f"GET /metrics with {small:,} and {large:,} runs (test client, bearer token)",
            mode=ctx.mode,
            rows=rows,
            notes=notes,
        )
    ]
