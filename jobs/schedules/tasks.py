"""The Django-Q2 entry point of every schedule of ours (``Schedule.func``)."""

from __future__ import annotations

from jobs.schedules import services


def fire(schedule_id: int) -> str:
    """A due schedule: fire its job, record a skip, or do nothing (see ``services.fire``)."""
    decision = services.fire(int(schedule_id))
    return f"{decision.action}: {decision.reason}" if decision.reason else str(decision.action)
