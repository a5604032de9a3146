from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from jobs import joblog
        from jobs.cluster import on_worker_spawn

        # Each app registers its job types in its own ``jobs.py``; jobs/ imports none of them.
        autodiscover_modules("jobs")
        post_spawn.connect(on_worker_spawn, dispatch_uid="jobs.rescue_on_spawn")
        post_migrate.connect(_ensure_schedule, sender=self)
        # Records from a job's threads are kept with the run (after logging is configured).
        joblog.install()


def _ensure_schedule(sender: Any, **kwargs: Any) -> None:
    from django.conf import settings

    from jobs.schedule import ensure_maintenance_schedule
    from jobs.schedules.services import install_defaults

    using = kwargs.get("using", "default")
    ensure_maintenance_schedule(using=using)
    if settings.PLAYLISTER_SCHEDULE_DEFAULTS:
        install_defaults(using=using)
