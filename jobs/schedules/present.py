"""What a person sees of a schedule, on the Schedules page and in ``manage.py schedules``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from jobs import registry
from jobs.models import ACTIVE_STATUSES, JobRun, JobSchedule, Outcome
from jobs.schedules import cron
from jobs.schedules.services import is_enabled, zone

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

NEXT_RUNS = 3


def when_text(at: datetime) -> str:
    """``Mon 07 Dec 06:00 CET``: a moment in the schedules' time zone, the zone named."""
    local = at.astimezone(zone())
    return f"{local:%a %d %b %H:%M} {local.tzname()}"


def from_now_text(at: datetime, *, now: datetime) -> str:
    """``in 3 h 05 min``, ``in 2 days``, ``in under a minute``."""
    seconds = (at - now).total_seconds()
    if seconds < 60:
        return "in under a minute"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"in {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"in {hours} h {minutes:02d} min"
    return f"in {hours // 24} days"


def params_text(job_type: str, params: Mapping[str, Any]) -> str:
    """``Window: Morning · Dry run: Yes`` — the parameters as set, as the job's page shows
    them (``jobs.results``); the job type's defaults apply to the rest."""
    rows = registry.params_for_people(job_type, params)
    return " · ".join(f"{label}: {value}" for label, value in rows) or "default parameters"


@dataclass(frozen=True)
class RunTime:
    at: datetime
    text: str
    from_now: str


@dataclass(frozen=True)
class ScheduleView:
    """A schedule ready for a template or a terminal: every text computed once."""

    row: JobSchedule
    enabled: bool
    reading: str
    next_runs: list[RunTime]
    last_job: JobRun | None

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def label(self) -> str:
        return self.row.label or self.row.name

    @property
    def cron(self) -> str:
        return self.row.schedule.cron or ""

    @property
    def job_label(self) -> str:
        try:
            return registry.get(self.row.job_type).label
        except registry.UnknownJobType:
            return self.row.job_type

    @property
    def params_text(self) -> str:
        return params_text(self.row.job_type, self.row.params)

    @property
    def job_text(self) -> str:
        return f"{self.row.job_type} ({self.params_text})"

    @property
    def outcome(self) -> str:
        return self.row.last_outcome

    @property
    def outcome_label(self) -> str:
        return Outcome(self.outcome).label if self.outcome else ""

    @property
    def last_run_when(self) -> str:
        at = self.row.last_run_at
        return when_text(at) if at else ""

    @property
    def last_job_active(self) -> bool:
        return self.last_job is not None and self.last_job.status in ACTIVE_STATUSES

    @property
    def last_run_text(self) -> str:
        """``Tue 01 Dec 05:00 CET fired #12 success`` (one line for a terminal)."""
        if not self.row.last_run_at:
            return "never"
        parts = [self.last_run_when, self.outcome_label.lower()]
        if self.row.last_job_id:
            parts.append(f"#{self.row.last_job_id}")
            if self.last_job is not None:
                parts.append(self.last_job.status)
        if self.row.last_reason:
            parts.append(f"({self.row.last_reason})")
        return " ".join(parts)


def schedule_views(
    rows: Iterable[JobSchedule] | None = None, *, now: datetime | None = None
) -> list[ScheduleView]:
    """Views of the given schedules (default: all, by name): two queries in all."""
    now = now or timezone.now()
    tz = zone()
    rows = list(JobSchedule.objects.select_related("schedule") if rows is None else rows)
    jobs = JobRun.objects.only("id", "status", "job_type").in_bulk(
        [r.last_job_id for r in rows if r.last_job_id]
    )
    views = []
    for row in rows:
        expression = row.schedule.cron or ""
        runs = [
            RunTime(at, when_text(at), from_now_text(at, now=now))
            for at in cron.runs_after(expression, tz, now, NEXT_RUNS)
        ]
        views.append(
            ScheduleView(
                row=row,
                enabled=is_enabled(row),
                reading=cron.describe(expression),
                next_runs=runs,
                last_job=jobs.get(row.last_job_id) if row.last_job_id else None,
            )
        )
    return views


def next_scheduled(*, now: datetime | None = None) -> ScheduleView | None:
    """The enabled schedule that fires next (the dashboard shows it)."""
    row = (
        JobSchedule.objects.select_related("schedule")
        .exclude(schedule__repeats=0)
        .filter(schedule__next_run__isnull=False)
        .order_by("schedule__next_run", "name")
        .first()
    )
    return schedule_views([row], now=now)[0] if row else None
