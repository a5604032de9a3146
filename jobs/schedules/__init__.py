"""Schedules: jobs that run by themselves, fired by the cluster's own scheduler.

A schedule is a name, a job type with its parameters, a cron expression in the configured
time zone (``PLAYLISTER_TIME_ZONE``) and enabled or not. It is a Django-Q2 ``Schedule`` of
the ``CRON`` type whose function (``jobs.schedules.tasks.fire``) enqueues the job with
trigger ``schedule``, plus a ``JobSchedule`` row; these rows are the single source of truth
for the Schedules page, ``manage.py schedules`` and the admin.

Apps declare their default schedules next to their job types (in their ``jobs.py``)::

    schedules.declare(schedules.DefaultSchedule(
        name="cache-warm", job_type="cache-warm", cron="0 3 * * 0", label="Warm the caches"))

``migrate`` installs the defaults that are missing and never changes an existing one;
``manage.py schedules reset`` puts them back as declared. This module knows no job type.

* ``cron``     — expressions: validation, run times across daylight-saving changes, words;
* ``rules``    — what a due schedule does (fire, skip, nothing): one pure function;
* ``services`` — install, reset, edit, enable, run now, and ``fire`` (the scheduler's call);
* ``tasks``    — the Django-Q2 entry point;
* ``models``   — ``JobSchedule``; ``present`` — what the page and the command show; ``admin``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class DefaultSchedule:
    """A schedule an app ships with. ``when`` says whether it applies (a service that is
    configured); a default that does not apply is not installed."""

    name: str
    job_type: str
    cron: str
    label: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    when: Callable[[], bool] | None = None

    def applies(self) -> bool:
        return self.when is None or bool(self.when())


_defaults: dict[str, DefaultSchedule] = {}


def declare(default: DefaultSchedule) -> DefaultSchedule:
    """Add a default schedule; declaring another one under a taken name is an error."""
    existing = _defaults.get(default.name)
    if existing is not None and _what(existing) != _what(default):
        raise ValueError(f"default schedule {default.name!r} is already declared")
    _defaults[default.name] = default
    return default


def _what(default: DefaultSchedule) -> tuple[Any, ...]:
    return (default.job_type, default.cron, default.params, default.label)


def defaults() -> list[DefaultSchedule]:
    """The declared defaults that apply here, in the order they were declared."""
    return [d for d in _defaults.values() if d.applies()]
