"""9. Worker resident memory after 1,000 jobs minus after 10.

A cluster of its own with recycling off (``recycle`` 1,000,000: production recycles a worker
after 500 tickets, which would reset its memory and hide a leak), 2 workers. Tracked:
``bench-steps`` jobs of 20 steps, so each one runs the whole tracker (reporter thread,
progress, live store, row writes); RSS (``VmRSS``) of every worker after the first 10 jobs
and after 1,000; the figure is the largest growth of one worker. Anchor: the same with raw
no-op tasks on a fresh cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.common import Cluster, Context, Row, Table, rss_mb, sized, wait_for, wait_idle
from bench.jobapp import marks

FIRST = 10
TOTAL = 1000
GOAL_MB = 20.0


def _measure(
    ctx: Context, name: str, send: Callable[[], None], done: Callable[[], int], total: int
) -> tuple[float, str]:
    """Largest per-worker RSS growth in MB between job ``FIRST`` and job ``total``;
    ``done`` counts the jobs finished so far."""
    cluster: Cluster = ctx.new_cluster(f"memory-{name}", BENCH_Q_RECYCLE="1000000")
    try:
        marks.reset(ctx.marks)

        def run_jobs(upto: int) -> None:
            already = done()
            for _ in range(upto - already):
                send()
            wait_for(
                lambda: done() >= upto,
                timeout=60 + upto / 10,
                interval=0.05,
            )
            wait_idle()
            time.sleep(0.5)

        run_jobs(FIRST)
        pids = wait_for(cluster.worker_pids, timeout=10, what="the workers")
        before = {pid: rss_mb(pid) for pid in pids}
        run_jobs(total)
        try:
            after = {pid: rss_mb(pid) for pid in pids}
        except FileNotFoundError:
            raise RuntimeError("a worker was replaced during the run") from None
    finally:
        cluster.stop()
    growth = {pid: after[pid] - before[pid] for pid in pids}
    detail = ", ".join(f"{before[p]:.1f} → {after[p]:.1f} MB" for p in pids)
    return max(growth.values()), detail


def run(ctx: Context) -> list[Table]:
    from django.db.models import Max
    from django_q.tasks import async_task

    from jobs import services, tickets
    from jobs.models import JobRun, JobStatus

    total = sized(TOTAL, 100)
    broker = tickets.broker()
    raw, raw_detail = _measure(
        ctx,
        "raw",
        lambda: async_task("bench.tasks.noop", save=False, broker=broker),
        lambda: marks.count(ctx.marks, "done"),
        total,
    )

    def tracked_job() -> None:
        services.enqueue(job_type="bench-steps", params={"steps": 20})

    newest = JobRun.objects.aggregate(newest=Max("id"))["newest"] or 0

    def tracked_done() -> int:
        # A ticket may run several jobs: count the rows, not Django-Q2's tasks.
        return JobRun.objects.filter(id__gt=newest, status=JobStatus.SUCCESS).count()

    tracked, detail = _measure(ctx, "tracked", tracked_job, tracked_done, total)
    return [
        Table(
            bench="memory",
            title=f"Worker RSS after {total:,} jobs minus after {FIRST}, recycling off",
            mode=ctx.mode,
            rows=[
                Row(
                    figure="largest worker RSS growth",
                    value=tracked,
                    unit="MB",
                    anchor="raw no-op tasks",
                    anchor_value=raw,
                    auto_ratio=False,
                    goal=f"< {GOAL_MB:.0f} MB",
                    met=tracked < GOAL_MB,
                    note=f"workers {detail}; raw workers {raw_detail}",
                ),
            ],
        )
    ]
