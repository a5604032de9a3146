"""Issue 15 in a real browser, on a real cluster: run a job again from its page and watch
its own log live; retry the failed runs a history filter selects, after a confirmation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jobs import services
from jobs.models import JobRun, JobStatus
from tests.cluster import wait_for
from tests.factories import JobRunFactory

pytestmark = [pytest.mark.cluster]


def test_retry_from_the_page_links_both_runs_and_the_new_one_logs_live(page, artifacts):
    first = services.enqueue(
        job_type="test-logging", params={"lines": 2, "threads": 1, "hold_ms": 60_000}
    )
    wait_for(lambda: JobRun.objects.get(pk=first.pk).status == JobStatus.RUNNING, timeout=20)
    services.cancel_job(job_id=first.pk)
    wait_for(lambda: JobRun.objects.get(pk=first.pk).status == JobStatus.CANCELLED, timeout=20)

    page.goto(f"/jobs/{first.pk}/")
    expect(page.locator("#job-log")).to_contain_text("from pool thread 0")
    page.get_by_role("button", name="Retry").click()
    retried = page.locator("#job-live .retried-as a")
    expect(retried).to_have_count(1)
    retried.click()

    expect(page.locator("#job-live .retry-of")).to_have_text(f"#{first.pk}")
    expect(page.locator("#job-status")).to_have_text("running")
    # The new run's log arrives while it runs, through the polled partial.
    expect(page.locator("#job-log")).to_contain_text("holding")
    expect(page.locator("#job-live")).to_have_attribute("data-polling", "true")
    page.screenshot(path=artifacts / "job-log-live.png", full_page=True)
    page.locator("#job-live button.cancel").click()
    expect(page.locator("#job-status")).to_have_text("cancelled", timeout=3_000)


def test_bulk_retry_of_a_filtered_history_asks_first(page, artifacts):
    ended = timezone.now() - timedelta(minutes=5)
    failed = [
        JobRunFactory(
            status=JobStatus.FAILED,
            started_at=ended - timedelta(seconds=1),
            finished_at=ended,
            attempt=1,
            error="ValueError: boom",
        )
        for _ in range(2)
    ]
    page.goto("/jobs/?type=test-steps&status=failed")
    page.get_by_role("button", name="Retry failed…").click()
    expect(page.locator("#bulk")).to_contain_text("Retry 2 failed runs not retried yet")
    page.screenshot(path=artifacts / "history-bulk-confirm.png", full_page=True)
    page.get_by_role("button", name="Retry 2").click()
    expect(page.locator("#bulk")).to_contain_text("Queued 2 retries")
    retried = set(JobRun.objects.filter(retry_of__in=failed).values_list("retry_of", flat=True))
    assert retried == {job.pk for job in failed}
