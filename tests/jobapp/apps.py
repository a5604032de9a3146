from __future__ import annotations

from django.apps import AppConfig


class JobAppConfig(AppConfig):
    name = "tests.jobapp"
    label = "testjobapp"
    verbose_name = "Test job types"

    def ready(self) -> None:
        # A cluster the tests started dies with them (tests/orphans.py).
        from tests.orphans import guard_from_environment

        guard_from_environment()
