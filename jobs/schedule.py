"""The maintenance pass as a Django-Q2 schedule (created by ``migrate``)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

MAINTENANCE_SCHEDULE = "playlister: job maintenance"
MAINTENANCE_FUNC = "jobs.tasks.maintain"


def ensure_maintenance_schedule(*, using: str = "default") -> None:
    from django_q.models import Schedule

    Schedule.objects.using(using).update_or_create(
        name=MAINTENANCE_SCHEDULE,
        defaults={
            "func": MAINTENANCE_FUNC,
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )


def bring_next_run_forward() -> None:
    """Django-Q2 schedules in whole minutes; after each pass the next one is set to
    ``PLAYLISTER_MAINTENANCE_INTERVAL`` seconds from now instead (its scheduler looks every
    ~30 s, so passes come every 30 to 60 s)."""
    from django_q.models import Schedule

    Schedule.objects.filter(name=MAINTENANCE_SCHEDULE).update(
        next_run=timezone.now() + timedelta(seconds=settings.PLAYLISTER_MAINTENANCE_INTERVAL)
    )
