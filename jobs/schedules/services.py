"""Services that change schedules, and ``fire``: what the cluster's scheduler calls.

Every change is a conditional UPDATE of the two rows of a schedule (Django-Q2's ``Schedule``
and our ``JobSchedule``), never a save of a row read earlier: Django-Q2's scheduler saves
whole ``Schedule`` rows, and a person may edit one at the same moment.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.text import slugify

from jobs import registry, services
from jobs.models import ACTIVE_STATUSES, JobRun, JobSchedule, Outcome, Trigger
from jobs.registry import JobError
from jobs.schedules import cron, defaults, rules

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from jobs.schedules import DefaultSchedule

logger = logging.getLogger(__name__)

FIRE_FUNC = "jobs.schedules.tasks.fire"
REASON_MAX = 500


class UnknownSchedule(JobError):
    def __init__(self, name: str) -> None:
        known = ", ".join(JobSchedule.objects.values_list("name", flat=True)) or "none"
        super().__init__(f"no schedule named {name!r} (known: {known})")
        self.name = name


def zone() -> ZoneInfo:
    """The time zone schedules run in: ``PLAYLISTER_TIME_ZONE``."""
    return timezone.get_default_timezone()


def next_run(expression: str, *, now: datetime | None = None) -> datetime | None:
    runs = cron.runs_after(expression, zone(), now or timezone.now(), 1)
    return runs[0] if runs else None


def get(name: str) -> JobSchedule:
    """The schedule called ``name`` with its Django-Q2 row; ``UnknownSchedule`` if none."""
    row = JobSchedule.objects.select_related("schedule").filter(name=name).first()
    if row is None:
        raise UnknownSchedule(name)
    return row


def is_enabled(row: JobSchedule) -> bool:
    return bool(row.schedule.repeats)


def create(
    *,
    name: str,
    job_type: str,
    cron_expression: str,
    params: dict[str, Any] | None = None,
    label: str = "",
    enabled: bool = True,
    now: datetime | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> JobSchedule:
    """Create a schedule. Raises ``JobError`` (a bad name, job type, parameter or
    expression) and ``IntegrityError`` when the name is taken."""
    from django_q.models import Schedule

    if not name or slugify(name) != name:
        raise JobError(f"a schedule's name is lower-case letters, digits and dashes: {name!r}")
    registry.get(job_type).validate(params)
    expression = cron.normalize(cron_expression)
    now = now or timezone.now()
    with transaction.atomic(using=using):
        schedule = Schedule(
            name=name,
            func=FIRE_FUNC,
            schedule_type=Schedule.CRON,
            cron=expression,
            repeats=-1 if enabled else 0,
        )
        schedule.save(using=using)
        # The task's argument is the row's own id; the first run time is ours (see ``fire``).
        Schedule.objects.using(using).filter(pk=schedule.pk).update(
            args=str(schedule.pk), next_run=next_run(expression, now=now)
        )
        return JobSchedule.objects.using(using).create(
            schedule=schedule,
            name=name,
            label=label,
            job_type=job_type,
            params=dict(params or {}),
            last_fire=now,
        )


def _create_default(default: DefaultSchedule, *, now: datetime, using: str) -> bool:
    try:
        create(
            name=default.name,
            job_type=default.job_type,
            cron_expression=default.cron,
            params=default.params,
            label=default.label,
            now=now,
            using=using,
        )
    except IntegrityError:  # another process installed it at the same moment
        return False
    return True


def install_defaults(*, using: str = DEFAULT_DB_ALIAS, now: datetime | None = None) -> list[str]:
    """Create the declared defaults that are missing (``migrate`` calls this); an existing
    schedule is never changed, whatever a person made of it. Returns the names created."""
    if JobSchedule._meta.db_table not in connections[using].introspection.table_names():
        return []  # migrated back to before the table existed
    now = now or timezone.now()
    existing = set(JobSchedule.objects.using(using).values_list("name", flat=True))
    return [
        default.name
        for default in defaults()
        if default.name not in existing and _create_default(default, now=now, using=using)
    ]


def reset(*, now: datetime | None = None) -> list[tuple[str, str]]:
    """Put every default schedule back as declared, enabled (creating missing ones); other
    schedules are left alone. Returns ``(name, "created" | "restored" | "unchanged")``."""
    now = now or timezone.now()
    done: list[tuple[str, str]] = []
    for default in defaults():
        if not JobSchedule.objects.filter(name=default.name).exists():
            created = _create_default(default, now=now, using=DEFAULT_DB_ALIAS)
            done.append((default.name, "created" if created else "unchanged"))
            continue
        with transaction.atomic():
            changed = (
                JobSchedule.objects.filter(name=default.name)
                .exclude(job_type=default.job_type, params=default.params, label=default.label)
                .update(job_type=default.job_type, params=default.params, label=default.label)
            )
            changed += set_cron(default.name, default.cron, now=now)
            changed += set_enabled(default.name, True, now=now)
        done.append((default.name, "restored" if changed else "unchanged"))
    return done


def set_cron(name: str, expression: str, *, now: datetime | None = None) -> bool:
    """Give a schedule a new expression; its run times count from now. False if it had
    that expression already. Raises ``CronError`` (nothing changed) or ``UnknownSchedule``."""
    from django_q.models import Schedule

    expression = cron.normalize(expression)
    row = get(name)
    now = now or timezone.now()
    with transaction.atomic():
        changed = (
            Schedule.objects.filter(pk=row.pk)
            .exclude(cron=expression)
            .update(cron=expression, next_run=next_run(expression, now=now))
        )
        if changed:
            JobSchedule.objects.filter(pk=row.pk).update(last_fire=now)
    return bool(changed == 1)


def set_enabled(name: str, enabled: bool, *, now: datetime | None = None) -> bool:
    """Enable or disable a schedule; False if it was so already. A schedule enabled again
    counts its run times from now: what it missed while disabled never fires."""
    from django_q.models import Schedule

    row = get(name)
    now = now or timezone.now()
    with transaction.atomic():
        if not enabled:
            return bool(Schedule.objects.filter(pk=row.pk).exclude(repeats=0).update(repeats=0))
        changed = Schedule.objects.filter(pk=row.pk, repeats=0).update(
            repeats=-1, next_run=next_run(row.schedule.cron or "", now=now)
        )
        if changed:
            JobSchedule.objects.filter(pk=row.pk).update(last_fire=now)
    return bool(changed == 1)


def _record(
    row: JobSchedule, outcome: Outcome, *, now: datetime, reason: str = "", job_id: int | None
) -> None:
    JobSchedule.objects.filter(pk=row.pk).update(
        last_run_at=now, last_outcome=outcome, last_reason=reason[:REASON_MAX], last_job_id=job_id
    )


def _still(job: JobRun) -> str:
    return f"job {job.pk} still {job.status}"


def run_now(name: str, *, trigger: Trigger = Trigger.WEB) -> JobRun:
    """Queue the schedule's job at once, for a person (a person's priority, not the
    scheduler's); recorded as the schedule's latest run. Its run times are unchanged. Returns
    the job — the active one with ``deduplicated`` set if one of its kind is queued or running.
    """
    row = get(name)
    job = services.enqueue(job_type=row.job_type, params=row.params, trigger=trigger)
    if job.deduplicated:
        _record(row, Outcome.SKIPPED, now=timezone.now(), reason=_still(job), job_id=job.pk)
    else:
        _record(row, Outcome.MANUAL, now=timezone.now(), job_id=job.pk)
    return job


def record_direct_run(row: JobSchedule, job: JobRun) -> None:
    """Record a run the system crontab made (``manage.py schedules run NAME --scheduled``)."""
    _record(row, Outcome.FIRED, now=timezone.now(), reason="run by cron", job_id=job.pk)


def _active_job(job_id: int | None) -> rules.ActiveJob | None:
    if job_id is None:
        return None
    status = (
        JobRun.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES)
        .values_list("status", flat=True)
        .first()
    )
    return rules.ActiveJob(job_id, status) if status else None


def fire(schedule_id: int, *, now: datetime | None = None) -> rules.Decision:
    """The scheduler's call for a due schedule: fire its job, record a skip, or nothing.

    ``rules.decide`` says which. The run time is then claimed with one conditional UPDATE
    (``last_fire`` moves from the value read to the run time), in the transaction that queues
    the job: whoever else calls for the same run time — another cluster, a task delivered
    twice — finds it claimed and does nothing. The job is queued with trigger ``schedule``
    (the scheduler's priority, below a person's jobs); an active job of the same kind (its
    dedupe key) makes it a skip. Finally ``next_run`` is set to the next run time by our
    reckoning: Django-Q2's own (croniter from the current time) runs a time that the clocks
    pass twice twice.
    """
    from django_q.models import Schedule

    now = now or timezone.now()
    row = JobSchedule.objects.select_related("schedule").filter(pk=schedule_id).first()
    if row is None:
        logger.warning("schedule %s has no job schedule row: nothing to fire", schedule_id)
        return rules.Decision(rules.Action.WAIT, None, None, "no such schedule")
    decision = rules.decide(
        now=now,
        last_fire=row.last_fire,
        cron_expression=row.schedule.cron or "",
        tz=zone(),
        enabled=is_enabled(row),
        active_job=_active_job(row.last_job_id),
    )
    with transaction.atomic():
        if decision.action is not rules.Action.WAIT:
            claimed = JobSchedule.objects.filter(pk=row.pk, last_fire=row.last_fire).update(
                last_fire=decision.slot
            )
            if claimed != 1:
                return rules.Decision(rules.Action.WAIT, None, decision.next_run, "fired already")
            _fire_or_skip(row, decision, now=now)
        Schedule.objects.filter(pk=row.pk).update(next_run=decision.next_run)
    return decision


def _fire_or_skip(row: JobSchedule, decision: rules.Decision, *, now: datetime) -> None:
    if decision.action is rules.Action.SKIP:
        _record(row, Outcome.SKIPPED, now=now, reason=decision.reason, job_id=row.last_job_id)
        logger.info("schedule %s: %s skipped (%s)", row.name, decision.slot, decision.reason)
        return
    try:
        job = services.enqueue(job_type=row.job_type, params=row.params, trigger=Trigger.SCHEDULE)
    except JobError as exc:
        _record(row, Outcome.FAILED, now=now, reason=str(exc), job_id=None)
        logger.warning("schedule %s could not queue its job: %s", row.name, exc)
        return
    if job.deduplicated:
        _record(row, Outcome.SKIPPED, now=now, reason=_still(job), job_id=job.pk)
        logger.info("schedule %s: %s skipped (%s)", row.name, decision.slot, _still(job))
    else:
        _record(row, Outcome.FIRED, now=now, job_id=job.pk)
        logger.info("schedule %s fired job %s for %s", row.name, job.pk, decision.slot)
