from __future__ import annotations

from datetime import timedelta

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


def finished(status=JobStatus.SUCCESS, seconds=2.0, **kwargs):
    """A run that ended ``seconds`` after it started (now, unless ``finished_at``)."""
    end = kwargs.pop("finished_at", timezone.now())
    return JobRunFactory(
        status=status,
        started_at=end - timedelta(seconds=seconds),
        finished_at=end,
        attempt=1,
        **kwargs,
    )


def running(**kwargs):
    """A run a worker has just started."""
    now = timezone.now()
    return JobRunFactory(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempt=1, **kwargs
    )


def run_row(html: str, job: JobRun) -> str:
    """The history or dashboard table row of ``job`` in a page's HTML."""
    row = html[html.index(f'id="run-{job.pk}"') :]
    return row[: row.index("</tr>")]
