"""Maintenance: the periodic pass that makes sure no job is lost or stuck.

1. **Rescue**: a running job whose heartbeat is stale, or whose process on this host is
   gone, goes back to the queue while attempts remain, else ends ``failed`` ("worker lost").
   A direct run (CLI, cron) cannot be re-run by the queue: it ends ``failed``.
2. **Re-ticket**: queued jobs that are due but have no ticket in the broker (a broker flush
   or restart, a crash between commit and push) get one.
   A pause or a full lane (``jobs.control``) needs no ticket; the lanes' slot counts are
   recounted.
3. **Roll up metrics**: runs that finished a minute ago or more are added to the totals
   ``/metrics`` reads (``jobs.metrics.roll_up``).
4. **Prune**: finished history older than the retention is deleted, in batches — never a run
   the metrics' totals do not count yet.

It runs as a Django-Q2 schedule (every 30 to 60 s), at every worker start (rescue and
re-ticket only), and as ``manage.py jobs maintain``.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jobs import control, metrics, tickets
from jobs.models import FINISHED_STATUSES, JobRun, JobStatus, owned_attempt
from jobs.retry import backoff_delay

logger = logging.getLogger(__name__)

PRUNE_BATCH = 1000


@dataclass
class RescueReport:
    requeued: int = 0
    failed: int = 0


@dataclass
class MaintenanceReport:
    requeued: int = 0
    failed: int = 0
    tickets: int = 0
    rolled_up: int = 0
    pruned: int = 0


def pid_alive(pid: int) -> bool:
    """Is process ``pid`` on this host alive (a zombie is not)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return True
    # The state letter follows the parenthesised command name.
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _dead_local(worker: str, host: str) -> bool:
    worker_host, _, pid = worker.rpartition(":")
    return worker_host == host and pid.isdigit() and not pid_alive(int(pid))


def rescue_lost_jobs(
    *, now: datetime | None = None, stale_after: float | None = None, local_only: bool = False
) -> RescueReport:
    """Requeue or fail running jobs whose worker is gone (see the module docstring)."""
    now = now or timezone.now()
    stale = stale_after if stale_after is not None else settings.PLAYLISTER_JOB_STALE_AFTER
    host = socket.gethostname()
    running = JobRun.objects.filter(status=JobStatus.RUNNING)
    local = Q(worker__startswith=f"{host}:")
    candidates = running.filter(
        local if local_only else local | Q(heartbeat_at__lt=now - timedelta(seconds=stale))
    )
    report = RescueReport()
    for job in candidates.only(
        "id", "job_type", "attempt", "max_attempts", "direct", "worker", "heartbeat_at"
    ):
        is_stale = job.heartbeat_at is None or job.heartbeat_at < now - timedelta(seconds=stale)
        if not (_dead_local(job.worker, host) or (is_stale and not local_only)):
            continue
        owned = owned_attempt(job.pk, job.attempt)
        # The lane's slot is given back with the state change (jobs.control).
        with transaction.atomic():
            if not job.direct and job.attempt < job.max_attempts:
                delay = backoff_delay(job.attempt)
                if owned.update(
                    status=JobStatus.QUEUED,
                    run_after=now + timedelta(seconds=delay),
                    worker="",
                    error=f"Attempt {job.attempt} of {job.max_attempts} lost its worker "
                    f"({job.worker}); running again",
                ):
                    control.release(job)
                    report.requeued += 1
                    logger.warning("job %s lost its worker %s: requeued", job.pk, job.worker)
            elif owned.update(
                status=JobStatus.FAILED,
                finished_at=now,
                error="Worker lost" if not job.direct else "The process running it was lost",
            ):
                control.release(job)
                report.failed += 1
                logger.warning("job %s lost its worker %s: failed", job.pk, job.worker)
    if report.requeued:
        tickets.push(report.requeued)
    return report


def reticket(*, now: datetime | None = None) -> int:
    """Push tickets for due queued jobs beyond those already waiting in the broker.

    A ticket drains the queue (``runner.run_next``), so one per worker is enough however
    many jobs wait.
    """
    now = now or timezone.now()
    # Runs a pause or a full lane holds back need no ticket: none polls while paused.
    due = control.runnable(
        JobRun.objects.filter(status=JobStatus.QUEUED, direct=False, run_after__lte=now)
    )[: settings.Q_CLUSTER["workers"]].count()
    if not due:
        return 0
    try:
        waiting = int(tickets.broker().queue_size() or 0)
    except Exception:
        logger.warning("could not read the broker's queue size", exc_info=True)
        waiting = 0
    missing = due - waiting
    return tickets.push(missing) if missing > 0 else 0


def prune_history(*, now: datetime | None = None, retention_days: int | None = None) -> int:
    """Delete finished jobs older than the retention; returns how many."""
    now = now or timezone.now()
    days = retention_days if retention_days is not None else settings.PLAYLISTER_JOB_RETENTION_DAYS
    # A run the metrics' totals do not count yet stays, so their counters never go down.
    cutoff = min(now - timedelta(days=days), metrics.rolled_up_until())
    old = JobRun.objects.filter(status__in=FINISHED_STATUSES, finished_at__lt=cutoff)
    pruned = 0
    while True:
        # Small batches keep SQLite's write lock short for the web and the workers.
        ids = list(old.values_list("id", flat=True)[:PRUNE_BATCH])
        if not ids:
            return pruned
        pruned += JobRun.objects.filter(id__in=ids).delete()[0]


def run_maintenance(*, now: datetime | None = None) -> MaintenanceReport:
    """One full maintenance pass."""
    now = now or timezone.now()
    rescued = rescue_lost_jobs(now=now)
    control.reconcile()
    report = MaintenanceReport(
        requeued=rescued.requeued, failed=rescued.failed, tickets=reticket(now=now)
    )
    try:
        report.rolled_up = metrics.roll_up()
    except Exception:
        # The metrics stay right (a scrape counts what is not rolled up); only slower.
        logger.warning("rolling up the job metrics failed", exc_info=True)
    report.pruned = prune_history(now=now)
    if report.requeued or report.failed or report.tickets or report.pruned:
        logger.info("maintenance: %s", report)
    return report
