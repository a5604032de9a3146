"""The claim: the statement that hands a queued run to a worker (``services.claim_next``).

Kept apart from the other services because it is the hottest query of the system and
carries the queue control's conditions (``jobs.control``).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING, Any

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from jobs import control, tickets
from jobs.models import JobRun, JobStatus

if TYPE_CHECKING:
    from datetime import datetime

logger = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_CLAIM_SET = (
    "UPDATE job_runs SET status = %s, started_at = %s, heartbeat_at = %s, worker = %s, "
    "attempt = attempt + 1, error = ''"
)
_CLAIM_PICK = (
    "SELECT j.id{lane_column} FROM job_runs j WHERE j.status = %s AND j.direct = %s "
    "AND j.run_after <= %s AND {runnable} ORDER BY j.priority, j.queued_at, j.id LIMIT 1{lock}"
)
# PostgreSQL: pick, take a slot on the picked run's lane row (if it has one) and mark it
# running — one statement. A claimer that waited for the lane row re-checks ``running <
# max_running`` on its newest version, so a full lane fails the slot and the run stays
# queued: then the last SELECT hands back that row still queued, and ``claim_next`` tries
# again with a fresh snapshot (``jobs.control`` says why a count alone cannot hold a limit).
_CLAIM_SQL_PG = (
    "WITH pick AS ({pick}), "
    "slot AS (UPDATE job_lanes SET running = running + 1 "
    "WHERE name = (SELECT lane FROM pick) AND (max_running IS NULL OR running < max_running) "
    "RETURNING name), "
    "claimed AS ({claim} WHERE id = (SELECT id FROM pick) AND status = %s "
    "AND (EXISTS (SELECT 1 FROM slot) OR NOT EXISTS "
    "(SELECT 1 FROM job_lanes WHERE name = (SELECT lane FROM pick))) RETURNING job_runs.*) "
    "SELECT * FROM claimed UNION ALL SELECT * FROM job_runs WHERE id = (SELECT id FROM pick) "
    "AND NOT EXISTS (SELECT 1 FROM claimed)"
)
# SQLite: one writer at a time, so the pick's count of running rows is exact.
_CLAIM_SQL_SQLITE = "{claim} WHERE id = ({pick}) AND status = %s RETURNING *"
# A lost race for a lane's last slot means another claimer took it: a few tries suffice.
CLAIM_TRIES = 3


def claim_next(*, worker: str | None = None, now: datetime | None = None) -> JobRun | None:
    """Atomically take the best runnable queued job (priority, then FIFO) and mark it running.

    One statement, written out once (this is the hottest query of the system):
    ``UPDATE … WHERE id = (SELECT id … ORDER BY priority, queued_at, id LIMIT 1) AND status =
    'queued' RETURNING *``, which hands back the whole row. SQLite runs it under its single
    write lock (inside the caller's transaction when the runner records a job's end and
    claims the next one at once); writers contending for the lock wait in SQLite's busy
    handler, which sleeps in steps of milliseconds. On PostgreSQL the subquery takes
    ``FOR UPDATE SKIP LOCKED``, so concurrent claimers take different rows without waiting.
    The pick skips what a pause holds back and runs of a full lane (``jobs.control``).
    """
    ops = connection.ops
    now = now or timezone.now()
    started = timezone.now()
    runnable, runnable_params = control.runnable_sql("j")
    pick_params: list[Any] = [
        JobStatus.QUEUED.value,
        False,
        ops.adapt_datetimefield_value(now),
        *runnable_params,
    ]
    set_params: list[Any] = [
        JobStatus.RUNNING.value,
        ops.adapt_datetimefield_value(started),
        ops.adapt_datetimefield_value(started),
        worker or worker_name(),
    ]
    if connection.vendor == "postgresql":
        lane, lane_params = control.lane_sql("j")
        pick = _CLAIM_PICK.format(
            lane_column=f", {lane} AS lane", runnable=runnable, lock=" FOR UPDATE OF j SKIP LOCKED"
        )
        sql = _CLAIM_SQL_PG.format(pick=pick, claim=_CLAIM_SET)
        params = [*lane_params, *pick_params, *set_params, JobStatus.QUEUED.value]
    else:
        pick = _CLAIM_PICK.format(lane_column="", runnable=runnable, lock="")
        sql = _CLAIM_SQL_SQLITE.format(pick=pick, claim=_CLAIM_SET)
        params = [*set_params, *pick_params, JobStatus.QUEUED.value]
    # After a run's end in the same transaction, which holds its lane row: a savepoint, so
    # that a deadlock fails the claim and not the recorded end. Without a lane row held
    # there is no deadlock to fail (``control.holds_lane_row``), and no savepoint: two round
    # trips of a no-op job's seven on PostgreSQL.
    guarded = connection.vendor == "postgresql" and control.holds_lane_row()
    for _ in range(CLAIM_TRIES):
        try:
            claimed = _claim(sql, params, guarded=guarded)
        except OperationalError as exc:
            if not guarded or getattr(exc.__cause__, "sqlstate", None) != DEADLOCK:
                # Unguarded, the transaction is broken: it must not commit as if recorded.
                raise
            # Two workers each gave back a slot of one lane and wanted the other's: the
            # database failed this claim (only the claim: it ran under a savepoint). The job
            # stays queued; a ticket makes sure someone takes it.
            logger.info("a claim lost a deadlock over lane slots; pushing a ticket")
            transaction.on_commit(tickets.push_unless_waiting)
            return None
        if not claimed or claimed[0].status == JobStatus.RUNNING:
            return claimed[0] if claimed else None
    return None


DEADLOCK = "40P01"


def _claim(sql: str, params: list[Any], *, guarded: bool) -> list[JobRun]:
    # list() runs the statement to its end: on SQLite a half-read RETURNING keeps the write
    # transaction open.
    if guarded:
        with transaction.atomic():
            return list(JobRun.objects.raw(sql, params))
    return list(JobRun.objects.raw(sql, params))
