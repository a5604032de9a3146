from __future__ import annotations

import factory
from django.utils import timezone

from jobs.models import JobRun, JobStatus, Trigger


class JobRunFactory(factory.django.DjangoModelFactory[JobRun]):
    class Meta:
        model = JobRun

    job_type = "test-steps"
    window = factory.SelfAttribute("job_type")
    params = factory.LazyFunction(lambda: {"steps": 1, "step_ms": 0})
    status = JobStatus.QUEUED
    trigger = Trigger.WEB
    run_after = factory.LazyFunction(timezone.now)
    queued_at = factory.LazyFunction(timezone.now)
