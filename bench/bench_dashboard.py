"""8. The dashboard's live partial and the history page on 100,000 and 1,000,000 runs, p95.

The table is filled once per mode: 100,000 runs over 60 days (mostly finished, the newest ten
queued or running) with multi-row INSERTs (SQLite) or COPY (PostgreSQL), measured, then grown
to 1,000,000 by nine ``INSERT … SELECT`` copies of those rows (finished), measured again.
Requests go through Django's test ``Client`` in-process, logged in (see ``bench_api``).

Anchor: ``GET /health`` through the same client in the same run (one trivial query: the
floor of any request). Extra rows without a goal: the full dashboard page, a filtered deep
history page, and the history page's metrics (loaded after the page; they read every
finished run of the last 30 days).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bench.common import Context, Row, Table, not_available, p50, p95_row, sized
from playlister.windows import DAILY
from testkit.job_rows import analyze, fill_job_runs

if TYPE_CHECKING:
    from django.test import Client

GOAL_MS = 50.0
# Issue 17: at 1,000,000 runs, the dashboard's live partial and the history page in 25 ms.
LARGE_GOAL_MS = 25.0
REPS = 60
METRICS_REPS = 3
HTMX = {"HX-Request": "true"}

# The job types of the rows (job type, window): two plain types and the daily playlists.
TYPES = [("bench-noop", "bench-noop"), ("cache-warm", "cache-warm")] + [
    ("playlist", window) for window in DAILY
]


def _fill(count: int) -> None:
    fill_job_runs(count, types=TYPES)


def _grow(copies: int) -> None:
    """Add ``copies`` finished copies of the rows there are."""
    from django.db import connection, transaction

    from jobs.models import ACTIVE_STATUSES, JobRun

    active = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)
    names = [str(f.column) for f in JobRun._meta.concrete_fields if not f.primary_key]
    quoted = [connection.ops.quote_name(c) for c in names]
    select = [
        f"CASE WHEN status IN ({active}) THEN 'success' ELSE status END"
        if c == "status"
        else "NULL"
        if c == "dedupe_key"
        else q
        for c, q in zip(names, quoted, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM job_runs")
        low, high = cursor.fetchone()
        for _ in range(copies):
            with transaction.atomic():
                cursor.execute(
                    f"INSERT INTO job_runs ({', '.join(quoted)}) SELECT {', '.join(select)} "
                    "FROM job_runs WHERE id BETWEEN %s AND %s ORDER BY id",
                    [low, high],
                )
    analyze()


def _client() -> Client:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench")
    client = Client()
    client.force_login(user)
    return client


def _timed(client: Client, path: str, reps: int, **kwargs: Any) -> list[float]:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        response = client.get(path, **kwargs)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code not in (200, 286):
            raise RuntimeError(f"GET {path} answered {response.status_code}")
    return times


def _available() -> str:
    from django.urls import Resolver404, resolve

    try:
        import jobs.views.pages  # noqa: F401

        for path in ("/", "/partials/live", "/jobs/", "/jobs/metrics", "/health"):
            resolve(path)
    except (ImportError, Resolver404) as exc:
        return f"the dashboard is not importable yet ({type(exc).__name__}: {exc})"
    return ""


def _measure(client: Client, size: int, goal_ms: float) -> list[Row]:
    from jobs.models import JobRun

    deep = JobRun.objects.order_by("id").values_list("id", flat=True)[size // 2]
    pages = [
        ("dashboard live partial", "/partials/live", HTMX, True),
        ("history page", "/jobs/", {}, True),
        ("dashboard page", "/", {}, False),
        (
            "history, failed, deep page (partial)",
            f"/jobs/?status=failed&before={deep}",
            HTMX,
            False,
        ),
    ]
    for _, path, headers, _goal in pages:  # warm caches and connections
        _timed(client, path, 3, headers=headers)
    floor = _timed(client, "/health", REPS)
    rows = []
    for name, path, headers, goal in pages:
        times = _timed(client, path, REPS, headers=headers)
        rows.append(
            p95_row(f"{name} p95, {size:,} rows", times, floor, goal_ms=goal_ms if goal else None)
        )
    # No goal, and seconds a request at 1,000,000 rows: fewer there (the whole bench in 10 min).
    reps = METRICS_REPS if size < 1_000_000 else 1
    metrics = _timed(client, "/jobs/metrics", reps, headers=HTMX)
    rows.append(
        Row(
            figure=f"history metrics (30 days) p50, {size:,} rows",
            value=p50(metrics),
            unit="ms",
            anchor="GET /health p50",
            anchor_value=p50(floor),
            note=f"{reps} request(s), max {max(metrics):.0f} ms; loaded after the page",
        )
    )
    return rows


def run(ctx: Context) -> list[Table]:
    from jobs.models import JobRun

    reason = _available()
    if reason:
        return [not_available("dashboard", "Dashboard and history at scale", ctx.mode, reason)]
    small = sized(100_000, 1000)
    JobRun.objects.all().delete()
    client = _client()
    timings = []
    started = time.perf_counter()
    _fill(small)
    timings.append(f"filling {small:,} rows took {time.perf_counter() - started:.0f} s")
    rows = _measure(client, small, GOAL_MS)
    started = time.perf_counter()
    _grow(9)
    large = JobRun.objects.count()
    timings.append(f"growing to {large:,} rows took {time.perf_counter() - started:.0f} s")
    rows += _measure(client, large, LARGE_GOAL_MS)
    return [
        Table(
            bench="dashboard",
            title=f"Dashboard and history with {small:,} and {large:,} runs (test client)",
            mode=ctx.mode,
            rows=rows,
            notes=[", ".join(timings)],
        )
    ]
