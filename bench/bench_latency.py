"""2. Enqueue → start latency, p50 and p95: an idle slot, and each job of a burst of 500.

Start = the first line of the task's or the job's body, which records ``time.time()`` next to
the ``t0`` taken just before the enqueue call (so the tracked figure includes the JobRun
insert, the ticket, the claim and the runner's setup). Raw: ``async_task("bench.tasks.stamp",
t0)``; tracked: ``enqueue("bench-stamp", {"t0": t0})``; same cluster, broker and settings.
Idle samples wait a random 20 to 120 ms between jobs so that they fall at every phase of the
broker's poll; each job is finished before the next one is sent. The burst is sent twice
for tracked jobs: ``enqueue`` 500 times, and one ``enqueue_many`` of 500 (each against a raw
burst of its own).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial

from bench.common import Context, Row, Table, p50, p95, sized, wait_for, wait_idle
from bench.jobapp import marks

IDLE_SAMPLES = 60
BURST = 500
ALLOWANCE_MS = 20.0


def _raw_sender() -> Callable[[float], None]:
    from django_q.tasks import async_task

    from jobs import tickets

    broker = tickets.broker()

    def send(t0: float) -> None:
        async_task("bench.tasks.stamp", t0, save=False, broker=broker)

    return send


def _tracked_sender() -> Callable[[float], None]:
    from jobs import services

    def send(t0: float) -> None:
        services.enqueue(job_type="bench-stamp", params={"t0": t0})

    return send


def burst_many(ctx: Context, n: int) -> list[float]:
    """The tracked burst as one ``enqueue_many`` call: every job carries the ``t0`` taken
    just before the call."""
    from jobs import services

    marks.reset(ctx.marks)
    t0 = time.time()
    services.enqueue_many(requests=[services.JobRequest("bench-stamp", {"t0": t0})] * n)
    wait_for(partial(_started, ctx, n), timeout=60 + n / 10, interval=0.02)
    wait_for(partial(_tracked_done, ctx, n), timeout=60, interval=0.02)
    wait_idle()
    return _latencies(ctx)


def _latencies(ctx: Context) -> list[float]:
    """Milliseconds from t0 to the body's start, for every ``start`` mark."""
    return [(float(m[2]) - float(m[1])) * 1000 for m in marks.read(ctx.marks) if m[0] == "start"]


def _started(ctx: Context, n: int) -> bool:
    return marks.count(ctx.marks, "start") >= n


def _raw_done(ctx: Context, n: int) -> bool:
    # Django-Q2 marks each task it finished; a tracked job is not a task of its own (a
    # ticket may run several), so its end is read from the rows instead.
    return marks.count(ctx.marks, "done") >= n


def _tracked_done(ctx: Context, n: int) -> bool:
    from jobs.models import ACTIVE_STATUSES, JobRun

    return not JobRun.objects.filter(status__in=ACTIVE_STATUSES).exists()


def idle(
    ctx: Context,
    send: Callable[[float], None],
    done: Callable[[Context, int], bool],
    n: int,
    rng: random.Random,
) -> list[float]:
    marks.reset(ctx.marks)
    for i in range(n):
        time.sleep(rng.uniform(0.02, 0.12))
        send(time.time())
        wait_for(partial(_started, ctx, i + 1), timeout=30, interval=0.002)
        wait_for(partial(done, ctx, i + 1), timeout=30, interval=0.002)
    return _latencies(ctx)


def burst(
    ctx: Context, send: Callable[[float], None], done: Callable[[Context, int], bool], n: int
) -> list[float]:
    marks.reset(ctx.marks)
    for _ in range(n):
        send(time.time())
    wait_for(partial(_started, ctx, n), timeout=60 + n / 10, interval=0.02)
    wait_for(partial(done, ctx, n), timeout=60, interval=0.02)
    wait_idle()
    return _latencies(ctx)


def run(ctx: Context) -> list[Table]:
    ctx.cluster()
    rng = random.Random(7)
    raw, tracked = (_raw_sender(), _raw_done), (_tracked_sender(), _tracked_done)
    idle(ctx, *raw, 3, rng)  # warm up both paths
    idle(ctx, *tracked, 3, rng)
    n_idle, n_burst = sized(IDLE_SAMPLES, 10), sized(BURST, 50)
    results = {
        "idle": (idle(ctx, *raw, n_idle, rng), idle(ctx, *tracked, n_idle, rng)),
        f"burst of {n_burst}": (burst(ctx, *raw, n_burst), burst(ctx, *tracked, n_burst)),
        f"burst of {n_burst}, enqueue_many": (burst(ctx, *raw, n_burst), burst_many(ctx, n_burst)),
    }
    rows = []
    for case, (raw_ms, tracked_ms) in results.items():
        for name, stat in (("p50", p50), ("p95", p95)):
            figure, anchor = stat(tracked_ms), stat(raw_ms)
            rows.append(
                Row(
                    figure=f"{case} {name}",
                    value=figure,
                    unit="ms",
                    anchor=f"raw async_task {name}",
                    anchor_value=anchor,
                    versus=f"{figure - anchor:+.1f} ms",
                    goal=f"≤ raw + {ALLOWANCE_MS:.0f} ms",
                    met=figure <= anchor + ALLOWANCE_MS,
                )
            )
    many_p50 = p50(results[f"burst of {n_burst}, enqueue_many"][1])
    limits = (
        "What limits a burst: it waits in the queue at the workers' rate (the throughput "
        f"table); enqueue_many stamps all {n_burst} jobs before its one INSERT, so its p50 of "
        f"{many_p50:,.0f} ms is half the drain, about {n_burst / 2 / many_p50 * 1000:,.0f} "
        "jobs/s."
    )
    return [
        Table(
            bench="latency",
            notes=[limits],
            title=f"Enqueue → start latency ({n_idle} idle samples, burst of {n_burst})",
            mode=ctx.mode,
            rows=rows,
        )
    ]
