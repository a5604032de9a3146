"""A large ``job_runs`` table, fast: the dashboard and history at scale (tests and benchmarks).

``count`` runs over 60 days, oldest first: mostly finished, the newest ten queued or running.
Inserted with COPY on PostgreSQL and multi-row INSERTs on SQLite (the ORM's ``bulk_create``
takes ~15 s for 100,000 rows, row-by-row INSERTs on PostgreSQL ~30 s).
"""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

# Columns that vary per row; every other column takes the model's default.
VARYING = (
    "job_type", "window", "status", "trigger", "attempt", "run_after", "queued_at",
    "started_at", "finished_at", "heartbeat_at", "error",
)  # fmt: skip
# Rows per INSERT on SQLite, well below its limit on parameters.
BATCH = 500


def model_defaults() -> dict[str, Any]:
    """Every column's database value for a default JobRun (new columns come along)."""
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


def job_run_rows(
    count: int, *, types: Sequence[tuple[str, str]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and ``count`` rows (see the module docstring), of the ``types``
    given as (job type, window)."""
    from django.db import connection
    from django.utils import timezone

    from jobs.models import FINISHED_STATUSES, JobStatus, Trigger

    rng = random.Random(4)
    now = timezone.now()
    start = now - timedelta(days=60)
    step = timedelta(days=60) / count
    ended = [JobStatus.SUCCESS] * 14 + [JobStatus.FAILED] * 3 + [JobStatus.CANCELLED] * 3
    triggers = [Trigger.WEB, Trigger.CLI, Trigger.SCHEDULE, Trigger.SCHEDULE]
    defaults = model_defaults()
    fixed = [c for c in defaults if c not in VARYING]
    head = tuple(defaults[c] for c in fixed)
    moment = connection.ops.adapt_datetimefield_value
    rows = []
    for i in range(count):
        queued = start + step * i
        job_type, window = rng.choice(types)
        status = rng.choice(ended)
        if i >= count - 10:
            status = JobStatus.RUNNING if i % 2 else JobStatus.QUEUED
        started = queued + timedelta(seconds=rng.uniform(0, 5))
        finished = started + timedelta(seconds=rng.expovariate(1 / 30))
        rows.append(
            (
                *head,
                job_type,
                window,
                status.value,
                rng.choice(triggers).value,
                0 if status == JobStatus.QUEUED else 1,
                moment(queued),
                moment(queued),
                None if status == JobStatus.QUEUED else moment(started),
                moment(finished) if status in FINISHED_STATUSES else None,
                None if status == JobStatus.QUEUED else moment(finished),
                "ValueError: boom" if status == JobStatus.FAILED else "",
            )
        )
    return [*fixed, *VARYING], rows


def fill_job_runs(count: int, *, types: Sequence[tuple[str, str]]) -> None:
    """Insert ``count`` runs (``job_run_rows``) in one transaction, then ``analyze``."""
    from django.db import connection, transaction

    names, rows = job_run_rows(count, types=types)
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
    analyze()


def analyze() -> None:
    """Fresh planner statistics after a bulk load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE job_runs" if connection.vendor == "postgresql" else "ANALYZE")
