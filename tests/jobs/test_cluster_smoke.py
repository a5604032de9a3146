from __future__ import annotations

import pytest

from jobs import services
from jobs.models import JobRun, JobStatus
from tests.cluster import wait_for


@pytest.mark.django_db(transaction=True)
def test_smoke(cluster):
    job = services.enqueue("test-steps", {"steps": 3, "step_ms": 10})
    wait_for(lambda: JobRun.objects.get(pk=job.pk).status == JobStatus.SUCCESS, timeout=20)
