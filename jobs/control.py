"""Queue control (issue 15 item 4): pause and resume, and a concurrency limit per lane.

Kept in ``job_lanes`` (``JobLane``), so every cluster obeys at once: the claim reads it in
the same statement that takes a job (``services.claim_next``).

- **Pause** ``*`` (the whole queue), a job type or a lane: queued runs it covers wait,
  running ones finish. ``resume`` tops the broker up with tickets, so the waiting runs start
  within one claim cycle; while paused, nothing polls (``runnable`` keeps paused runs out of
  ``next_due_in`` and the re-ticketing).
- **Limit** a lane (a job type, or the types that declare the same ``JobType.lane``): at most
  ``max_running`` of its runs at once. On PostgreSQL a claim cannot count running rows to
  decide — under READ COMMITTED two claimers each see the other's claim as still queued in
  their snapshot — so the lane row holds the count of taken slots: the claim takes one with
  ``running < max_running`` in the same statement (a data-modifying CTE; a concurrent
  claimer waits for that row and re-checks the condition on its newest version), and every
  end of a run gives it back in the transaction that records the end (``release``).
  ``reconcile`` recounts a lane exactly (row lock first, count in a later statement) when a
  limit is set and at each maintenance pass. SQLite runs one writer at a time, so its claim
  counts the running rows in the statement itself.
- **Direct runs** (CLI, cron) are an explicit act: a pause or a full lane does not stop
  them, but they count as running for the limit (the CLI says the queue is paused).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from jobs import registry, tickets
from jobs.models import JobLane, JobRun, JobStatus
from jobs.params import preview
from jobs.registry import JobError

if TYPE_CHECKING:
    from datetime import datetime

    from django.db.models import QuerySet

QUEUE = "*"
MAX_LIMIT = 1000
WHO_MAX = 150


class ControlError(JobError):
    """A pause, resume or limit that names nothing known, or a limit out of range."""


# -- the claim's conditions --------------------------------------------------------------------


def _lane_sql(column: str) -> tuple[str, list[str]]:
    """SQL for the lane of the run in ``column`` (a job type): the registry's groups."""
    grouped = sorted(
        (spec.name, spec.lane) for spec in registry.all_types() if spec.lane_name != spec.name
    )
    if not grouped:
        return column, []
    whens = " ".join("WHEN %s THEN %s" for _ in grouped)
    return f"(CASE {column} {whens} ELSE {column} END)", [v for pair in grouped for v in pair]


def lane_sql(alias: str) -> tuple[str, list[str]]:
    """The lane of the ``job_runs`` row aliased ``alias``, as SQL and its parameters."""
    return _lane_sql(f"{alias}.job_type")


# Only aliases and a lane's CASE expression are put into these; values are parameters.
_COUNT_BUSY = (
    "(SELECT COUNT(*) FROM job_runs r WHERE r.status = %s AND {lane} = b.name) >= b.max_running"
)
# The names that hold a run back: paused, or a lane without a free slot.
_BLOCKED = (
    "SELECT b.name FROM job_lanes b WHERE b.paused_at IS NOT NULL "
    "OR (b.max_running IS NOT NULL AND {busy})"
)
# Every subquery is uncorrelated: evaluated once per statement (PostgreSQL: an InitPlan and
# a hashed SubPlan; SQLite: once), so the claim still walks its index in order and stops at
# the first runnable row. (Correlated NOT EXISTS became anti-joins on PostgreSQL, which then
# sorted every queued row: 70 ms a claim at 10,000 queued.)
_RUNNABLE = (
    "NOT EXISTS (SELECT 1 FROM job_lanes q WHERE q.name = %s AND q.paused_at IS NOT NULL) "
    "AND {alias}.job_type NOT IN ({blocked}) AND {lane} NOT IN ({blocked})"
)


def runnable_sql(alias: str) -> tuple[str, list[object]]:
    """The condition a queued run (``job_runs`` aliased ``alias``) must meet to be claimed:
    nothing pauses it and its lane has a free slot (as this statement's snapshot sees it;
    on PostgreSQL the claim re-checks the slot on the lane row itself)."""
    lane, lane_params = lane_sql(alias)
    busy_params: list[object] = []
    if connection.vendor == "postgresql":
        busy = "b.running >= b.max_running"
    else:
        running_lane, running_params = lane_sql("r")
        busy = _COUNT_BUSY.format(lane=running_lane)
        busy_params = [JobStatus.RUNNING.value, *running_params]
    sql = _RUNNABLE.format(alias=alias, lane=lane, blocked=_BLOCKED.format(busy=busy))
    return sql, [QUEUE, *busy_params, *lane_params, *busy_params]


def runnable(queryset: QuerySet[JobRun]) -> QuerySet[JobRun]:
    """``queryset`` without the queued runs a pause or a full lane holds back."""
    sql, params = runnable_sql(JobRun._meta.db_table)
    return queryset.filter(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611


# -- slots (PostgreSQL) ------------------------------------------------------------------------


def take_direct(job_type: str) -> None:
    """A direct run started (in the caller's transaction): it counts for its lane's limit,
    whatever the limit says (it is an explicit act)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE job_lanes SET running = running + 1 WHERE name = %s",
            [registry.lane_of(job_type)],
        )


def release(job: JobRun) -> None:
    """``job`` stopped running (in the transaction that records it): its lane's slot is free.

    The queue's worker claims the next run in that same transaction; a direct run's end has
    no worker to do so, so it pushes a ticket when its lane is limited.
    """
    lane = registry.lane_of(job.job_type)
    limited: object = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE job_lanes SET running = GREATEST(running - 1, 0) WHERE name = %s "
                "RETURNING max_running",
                [lane],
            )
            row = cursor.fetchone()
            limited = row[0] if row else None
        if row is not None:
            _note_lane_row_held()
    elif job.direct:
        limited = JobLane.objects.filter(name=lane).values_list("max_running", flat=True).first()
    if job.direct and limited is not None:
        transaction.on_commit(tickets.push_unless_waiting)


# Does this thread's open transaction hold a lane row's lock (PostgreSQL)? Only then can a
# claim in it deadlock (``claim._claim``): a claim waits for lane rows alone — ``SKIP
# LOCKED`` everywhere else — so without a lane row of its own it is in no cycle.
_lane_row = threading.local()


def _note_lane_row_held() -> None:
    _lane_row.held = True
    # Forgotten when the transaction commits; after a rollback it stays set, which costs
    # a needless savepoint, never a missing one.
    transaction.on_commit(_forget_lane_row)


def _forget_lane_row() -> None:
    _lane_row.held = False


def holds_lane_row() -> bool:
    """Whether the open transaction has locked a ``job_lanes`` row (giving back a slot)."""
    if not connection.in_atomic_block:
        _lane_row.held = False
        return False
    return bool(getattr(_lane_row, "held", False))


def reconcile(lanes: list[str] | None = None) -> int:
    """Recount the taken slots of ``lanes`` (default: every lane that has a row) from the
    running rows; how many were off. Exact on PostgreSQL: the row lock comes first, and
    everything that takes or gives a slot waits for it, so the count — a later statement,
    a later snapshot — sees every run that holds one."""
    if connection.vendor != "postgresql":
        return 0
    members = registry.lane_members()
    names = lanes if lanes is not None else list(members)
    fixed = 0
    for name in JobLane.objects.filter(name__in=names).values_list("name", flat=True):
        types = members.get(name, [name])
        with transaction.atomic():
            taken = (
                JobLane.objects.select_for_update()
                .filter(name=name)
                .values_list("running", flat=True)
            )
            before = taken.first()
            count = JobRun.objects.filter(status=JobStatus.RUNNING, job_type__in=types).count()
            if before is not None and before != count:
                JobLane.objects.filter(name=name).update(running=count)
                fixed += 1
    return fixed


# -- pause, resume, limit ----------------------------------------------------------------------


def check_target(name: str | None) -> str:
    """``name`` checked: None or ``*`` is the whole queue, else a job type or a lane."""
    if name is None or name == QUEUE:
        return QUEUE
    if registry.is_registered(name) or name in registry.lane_members():
        return name
    known = ", ".join(sorted({*registry.lane_members(), *(t.name for t in registry.all_types())}))
    raise ControlError(f"no job type or lane named {preview(name)} (known: {known})")


def _lane(name: str) -> str:
    if name in registry.lane_members():
        return name
    if registry.is_registered(name):
        lane = registry.lane_of(name)
        raise ControlError(f"{name} runs in the lane {lane}: set the limit of {lane}")
    raise ControlError(
        f"no lane named {preview(name)} (lanes: {', '.join(sorted(registry.lane_members()))})"
    )


def check_lane(lane: str, limit: int | None) -> str:
    """``lane`` and ``limit`` checked (``ControlError``); the lane's name."""
    name = _lane(lane)
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise ControlError(f"a limit is a whole number from 1 to {MAX_LIMIT}, or none")
    return name


def pause(*, name: str | None = None, by: str, now: datetime | None = None) -> JobLane:
    """Pause the whole queue (``name`` None or ``*``), a job type or a lane: its queued runs
    wait, its running runs finish. Pausing what is paused keeps the first pause's time."""
    target = check_target(name)
    lane, _ = JobLane.objects.get_or_create(name=target)
    JobLane.objects.filter(pk=lane.pk, paused_at__isnull=True).update(
        paused_at=now or timezone.now(), paused_by=(by or "unknown")[:WHO_MAX]
    )
    return JobLane.objects.get(pk=lane.pk)


def resume(*, name: str | None = None) -> JobLane | None:
    """Lift the pause of ``name``; the runs it held start within one claim cycle (tickets
    are topped up when this commits). Returns the row, None if it was not paused."""
    from jobs import maintenance

    target = check_target(name)
    updated = JobLane.objects.filter(name=target, paused_at__isnull=False).update(
        paused_at=None, paused_by=""
    )
    if not updated:
        return None
    transaction.on_commit(maintenance.reticket)
    return JobLane.objects.filter(name=target).first()


def set_limit(*, lane: str, limit: int | None) -> JobLane:
    """At most ``limit`` runs of ``lane`` at once (None: no limit). Running runs finish; a
    higher limit lets waiting runs start within one claim cycle."""
    from jobs import maintenance

    name = check_lane(lane, limit)
    row, _ = JobLane.objects.get_or_create(name=name)
    JobLane.objects.filter(pk=row.pk).update(max_running=limit)
    reconcile([name])
    transaction.on_commit(maintenance.reticket)
    return JobLane.objects.get(pk=row.pk)


# -- what the dashboard, the API and the CLI show ------------------------------------------------


@dataclass(frozen=True)
class Pause:
    name: str
    paused_at: datetime
    paused_by: str


@dataclass(frozen=True)
class Lane:
    name: str
    types: list[str]
    limit: int | None
    running: int
    paused: Pause | None


@dataclass(frozen=True)
class QueueState:
    queue: Pause | None
    # Job types and lanes that are paused (the whole queue aside).
    paused: dict[str, Pause] = field(default_factory=dict)
    lanes: list[Lane] = field(default_factory=list)

    def paused_for(self, job_type: str) -> Pause | None:
        """What holds ``job_type`` back: the queue's pause, its own, or its lane's."""
        return (
            self.queue or self.paused.get(job_type) or self.paused.get(registry.lane_of(job_type))
        )

    def as_json(self) -> dict[str, object]:
        def pause(p: Pause | None) -> dict[str, str] | None:
            return None if p is None else {"at": p.paused_at.isoformat(), "by": p.paused_by}

        return {
            "paused": pause(self.queue),
            "paused_types": {name: pause(p) for name, p in sorted(self.paused.items())},
            "lanes": [
                {
                    "name": lane.name,
                    "types": lane.types,
                    "limit": lane.limit,
                    "running": lane.running,
                    "paused": pause(lane.paused),
                }
                for lane in self.lanes
            ],
        }


def queue_state() -> QueueState:
    """The queue's pauses and every lane's limit and running runs (two small queries)."""
    rows = {row.name: row for row in JobLane.objects.all()}
    pauses = {
        name: Pause(name, row.paused_at, row.paused_by)
        for name, row in rows.items()
        if row.paused_at is not None
    }
    running: dict[str, int] = {}
    for job_type in JobRun.objects.filter(status=JobStatus.RUNNING).values_list(
        "job_type", flat=True
    ):
        lane = registry.lane_of(job_type)
        running[lane] = running.get(lane, 0) + 1
    lanes = [
        Lane(
            name=name,
            types=types,
            limit=rows[name].max_running if name in rows else None,
            running=running.get(name, 0),
            paused=pauses.get(name),
        )
        for name, types in sorted(registry.lane_members().items())
    ]
    queue = pauses.pop(QUEUE, None)
    return QueueState(queue=queue, paused=pauses, lanes=lanes)
