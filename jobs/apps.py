from __future__ import annotations

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        # Each app registers its job types in its own ``jobs.py``; jobs/ imports none of them.
        autodiscover_modules("jobs")
