from __future__ import annotations

from django.apps import AppConfig


class JobAppConfig(AppConfig):
    name = "tests.jobapp"
    label = "testjobapp"
    verbose_name = "Test job types"
