"""4. Cancel request (this process) → the job's row ``cancelled`` (the worker's process).

A ``bench-steps`` job (10 ms steps, a checkpoint at each) runs on the cluster; once its row
is ``running``, after a random 50 to 300 ms so the request lands at any phase of the reporter's
cycle, this process calls ``jobs.services.cancel_job`` and polls the row every 5 ms until it
reads ``cancelled``.

Anchor: cooperative cancellation done by hand on raw Django-Q2 (it has no cancel API): a task
polls a flag in the shared cache every 100 ms and records when it stops.
"""

from __future__ import annotations

import random
import time
import uuid

from bench.common import Context, Row, Table, p50, p95, sized, wait_for, wait_idle
from bench.jobapp import marks

SAMPLES = 25
GOAL_P95_S = 0.5


def tracked_sample(rng: random.Random) -> float:
    from jobs import services
    from jobs.models import JobRun, JobStatus

    job = services.enqueue(job_type="bench-steps", params={"steps": 3000, "step_ms": 10})
    row = JobRun.objects.filter(pk=job.pk)
    wait_for(
        lambda: row.values_list("status", flat=True).first() == JobStatus.RUNNING,
        timeout=30,
        interval=0.005,
    )
    time.sleep(rng.uniform(0.05, 0.3))
    started = time.perf_counter()
    services.cancel_job(job_id=job.pk)
    wait_for(
        lambda: row.values_list("status", flat=True).first() == JobStatus.CANCELLED,
        timeout=30,
        interval=0.005,
    )
    return time.perf_counter() - started


def raw_sample(ctx: Context, rng: random.Random) -> float:
    from django.core.cache import caches
    from django_q.tasks import async_task

    from bench.tasks import cancel_key
    from jobs import tickets

    key = uuid.uuid4().hex[:12]
    async_task("bench.tasks.cancellable", key, save=False, broker=tickets.broker())

    def seen(kind: str) -> bool:
        return any(m[0] == kind and m[1] == key for m in marks.read(ctx.marks))

    wait_for(lambda: seen("running"), timeout=30, interval=0.005)
    time.sleep(rng.uniform(0.05, 0.3))
    started = time.perf_counter()
    caches["live"].set(cancel_key(key), True, 600)
    wait_for(lambda: seen("cancelled"), timeout=30, interval=0.005)
    return time.perf_counter() - started


def run(ctx: Context) -> list[Table]:
    ctx.cluster()
    wait_idle()
    rng = random.Random(11)
    n = sized(SAMPLES, 5)
    marks.reset(ctx.marks)
    raw = [raw_sample(ctx, rng) for _ in range(n)]
    tracked = [tracked_sample(rng) for _ in range(n)]
    wait_idle()
    rows = [
        Row(
            figure="cancel → cancelled p50",
            value=p50(tracked) * 1000,
            unit="ms",
            anchor="raw task polling a cache flag every 100 ms, p50",
            anchor_value=p50(raw) * 1000,
        ),
        Row(
            figure="cancel → cancelled p95",
            value=p95(tracked) * 1000,
            unit="ms",
            anchor="same, p95",
            anchor_value=p95(raw) * 1000,
            goal=f"p95 < {GOAL_P95_S * 1000:.0f} ms",
            met=p95(tracked) < GOAL_P95_S,
            note=f"max {max(tracked) * 1000:.0f} ms over {n} cancels",
        ),
    ]
    return [Table(bench="cancel", title=f"Cancel → cancelled, {n} jobs", mode=ctx.mode, rows=rows)]
