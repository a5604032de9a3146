"""5. Live progress staleness seen by a reader, and ``job_runs`` writes per job.

A ``bench-steps`` job (``STEPS`` steps of ``STEP_MS``) runs on the cluster and records when
each step was done. Meanwhile this process reads the job every 50 ms the way the dashboard
does (``selectors.progress_of``: the live store first, then the row). A read that shows
``current = c`` while more steps were done before the read began is stale by *read end minus
the moment step c+1 was done*; an up-to-date read is not stale. Anchor: the same reads taken
from the row alone (what a reader would see without the live store).

Writes: a trigger counts every UPDATE of the job's row (claim, progress, heartbeat, end);
the INSERT of ``enqueue`` is reported beside it. Goal: ≤ 12 + one per 30 s of runtime.
"""

from __future__ import annotations

import json
import time
import uuid

from bench.common import Context, Row, Table, p50, p95, sized, wait_idle
from bench.jobapp import marks

STEPS = 200
STEP_MS = 30
READ_EVERY = 0.05
GOAL_STALE_S = 0.5

_SQLITE_TRIGGER = [
    "CREATE TABLE IF NOT EXISTS bench_row_writes (job_id bigint NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS bench_count_writes AFTER UPDATE ON job_runs "
    "BEGIN INSERT INTO bench_row_writes (job_id) VALUES (NEW.id); END",
]
_POSTGRES_TRIGGER = [
    "CREATE TABLE IF NOT EXISTS bench_row_writes (job_id bigint NOT NULL)",
    "CREATE OR REPLACE FUNCTION bench_count_writes() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN INSERT INTO bench_row_writes (job_id) VALUES (NEW.id); RETURN NULL; END $$",
    "CREATE TRIGGER bench_count_writes AFTER UPDATE ON job_runs "
    "FOR EACH ROW EXECUTE FUNCTION bench_count_writes()",
]
_DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS bench_count_writes",
        "DROP TABLE IF EXISTS bench_row_writes",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS bench_count_writes ON job_runs",
        "DROP FUNCTION IF EXISTS bench_count_writes()",
        "DROP TABLE IF EXISTS bench_row_writes",
    ],
}


def _sql(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _row_updates(job_id: int) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM bench_row_writes WHERE job_id = %s", [job_id])
        return int(cursor.fetchone()[0])


def _staleness(reads: list[tuple[float, float, int]], done_at: list[float]) -> list[float]:
    """Seconds each read was behind; ``reads`` are (began, ended, current shown)."""
    stale = []
    for began, ended, current in reads:
        done_before = sum(1 for t in done_at if t <= began)
        if current >= done_before:
            stale.append(0.0)
        else:
            stale.append(max(0.0, ended - done_at[current]))
    return stale


def run(ctx: Context) -> list[Table]:
    from django.db import connection

    from jobs import selectors, services
    from jobs.models import FINISHED_STATUSES, JobRun, JobStatus

    ctx.cluster()
    wait_idle()
    steps = sized(STEPS, 40)
    _sql(_DROP[connection.vendor])
    _sql(_POSTGRES_TRIGGER if connection.vendor == "postgresql" else _SQLITE_TRIGGER)
    try:
        marks.reset(ctx.marks)
        tag = uuid.uuid4().hex[:8]
        job = services.enqueue(
            job_type="bench-steps", params={"steps": steps, "step_ms": STEP_MS, "tag": tag}
        )
        live_reads: list[tuple[float, float, int]] = []
        row_reads: list[tuple[float, float, int]] = []
        seen_live = 0
        deadline = time.monotonic() + 60 + steps * STEP_MS / 1000 * 3
        while time.monotonic() < deadline:
            began = time.time()
            row = JobRun.objects.get(pk=job.pk)
            view = selectors.progress_of(row)
            ended = time.time()
            if row.status in FINISHED_STATUSES:
                break
            if row.status == JobStatus.RUNNING:
                live_reads.append((began, ended, view.current))
                row_reads.append((began, ended, row.progress_current))
                seen_live += view.live
            time.sleep(READ_EVERY)
        row = JobRun.objects.get(pk=job.pk)
        if row.status != JobStatus.SUCCESS:
            raise RuntimeError(f"the progress job ended {row.status}: {row.error}")
        updates = _row_updates(job.pk)
    finally:
        _sql(_DROP[connection.vendor])
    done = [m for m in marks.read(ctx.marks) if m[0] == "steps" and m[1] == tag]
    done_at: list[float] = json.loads(done[0][2])
    live = _staleness(live_reads, done_at)
    from_row = _staleness(row_reads, done_at)
    assert row.started_at is not None and row.finished_at is not None
    runtime = (row.finished_at - row.started_at).total_seconds()
    allowed = 12 + int(runtime // 30)
    rows = [
        Row(
            figure="staleness seen by a reader, p95",
            value=p95(live),
            unit="s",
            anchor="row only (no live store), p95",
            anchor_value=p95(from_row),
            goal=f"≤ {GOAL_STALE_S} s",
            met=p95(live) <= GOAL_STALE_S,
            note=(
                f"p50 {p50(live):.3f} s, max {max(live):.3f} s over {len(live)} reads "
                f"({seen_live} from the live store); row only: p50 {p50(from_row):.3f} s, "
                f"max {max(from_row):.3f} s"
            ),
        ),
        Row(
            figure="job_runs row UPDATEs for one job",
            value=float(updates),
            unit="writes",
            anchor=f"allowed for {runtime:.1f} s: 12 + 1 per 30 s",
            anchor_value=float(allowed),
            goal="≤ 12 + 1 per 30 s",
            met=updates <= allowed,
            note=f"{steps} steps in {runtime:.1f} s; plus the INSERT of enqueue",
        ),
    ]
    return [
        Table(
            bench="progress",
            title=f"Live progress of a {steps}-step job ({STEP_MS} ms steps)",
            mode=ctx.mode,
            rows=rows,
        )
    ]
