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

import itertools
import random
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bench.common import Context, Row, Table, not_available, p50, p95_row, sized

if TYPE_CHECKING:
    from django.test import Client

GOAL_MS = 50.0
# Issue 17: at 1,000,000 runs, the dashboard's live partial and the history page in 25 ms.
LARGE_GOAL_MS = 25.0
REPS = 60
METRICS_REPS = 3
HTMX = {"HX-Request": "true"}
BATCH = 500

# Columns that vary per row; every other column takes the model's default.
VARYING = (
    "job_type", "window", "status", "trigger", "attempt", "run_after", "queued_at",
    "started_at", "finished_at", "heartbeat_at", "error",
)  # fmt: skip


def _model_defaults() -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from jobs.models import JobRun

    template = JobRun(
        params={"steps": 10}, progress_current=10, progress_total=10, queued_at=timezone.now()
    )
    return {
        str(f.column): f.get_db_prep_save(f.pre_save(template, add=True), connection)
        for f in JobRun._meta.concrete_fields
        if not f.primary_key
    }


def _rows(count: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """``count`` runs over 60 days, oldest first: mostly finished, the last ten active."""
    from django.db import connection
    from django.utils import timezone

    rng = random.Random(4)
    now = timezone.now()
    start = now - timedelta(days=60)
    step = timedelta(days=60) / count
    types = [("bench-noop", "bench-noop"), ("cache-warm", "cache-warm")] + [
        ("playlist", window) for window in ("morning", "afternoon", "evening")
    ]
    ended = ["success"] * 14 + ["failed"] * 3 + ["cancelled"] * 3
    triggers = ["web", "cli", "schedule", "schedule"]
    defaults = _model_defaults()
    fixed = [c for c in defaults if c not in VARYING]
    head = tuple(defaults[c] for c in fixed)
    moment = connection.ops.adapt_datetimefield_value
    rows = []
    for i in range(count):
        queued = start + step * i
        job_type, window = rng.choice(types)
        status = rng.choice(ended)
        if i >= count - 10:
            status = "running" if i % 2 else "queued"
        started = queued + timedelta(seconds=rng.uniform(0, 5))
        finished = started + timedelta(seconds=rng.expovariate(1 / 30))
        rows.append(
            (
                *head,
                job_type,
                window,
                status,
                rng.choice(triggers),
                0 if status == "queued" else 1,
                moment(queued),
                moment(queued),
                None if status == "queued" else moment(started),
                moment(finished) if status in ended else None,
                None if status == "queued" else moment(finished),
                "ValueError: boom" if status == "failed" else "",
            )
        )
    return [*fixed, *VARYING], rows


def _fill(count: int) -> None:
    from django.db import connection, transaction

    names, rows = _rows(count)
    columns = ", ".join(connection.ops.quote_name(c) for c in names)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY job_runs ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            one = "(" + ", ".join(["%s"] * len(names)) + ")"
            for chunk in itertools.batched(rows, BATCH):
                cursor.execute(
                    f"INSERT INTO job_runs ({columns}) VALUES {', '.join([one] * len(chunk))}",
                    [value for row in chunk for value in row],
                )
    _analyze()


def _grow(copies: int) -> None:
    """Add ``copies`` finished copies of the rows there are."""
    from django.db import connection, transaction

    from jobs.models import JobRun

    names = [str(f.column) for f in JobRun._meta.concrete_fields if not f.primary_key]
    quoted = [connection.ops.quote_name(c) for c in names]
    select = [
        "CASE WHEN status IN ('queued', 'running') THEN 'success' ELSE status END"
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
    _analyze()


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE job_runs" if connection.vendor == "postgresql" else "ANALYZE")


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
