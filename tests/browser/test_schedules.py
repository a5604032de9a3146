"""The Schedules page in a real browser, on a real cluster."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jobs.models import JobRun, JobStatus, Trigger
from jobs.schedules import services as schedules

pytestmark = [pytest.mark.cluster]


@pytest.fixture
def weekly(drained):
    return schedules.create(
        name="weekly-steps",
        label="Weekly steps",
        job_type="test-steps",
        cron_expression="0 6 * * 1",
        params={"steps": 5, "step_ms": 100},
    )


def test_edit_a_schedule_see_its_next_runs_change_and_run_it_now(page, weekly, artifacts):
    page.get_by_role("link", name="Schedules").click()
    row = page.locator("#schedule-weekly-steps")
    expect(row).to_contain_text("At 06:00, only on Monday")
    runs = row.locator(".next-runs time")
    expect(runs).to_have_count(3)
    assert all(text.startswith("Mon") for text in runs.all_inner_texts())

    # A bad expression: the message says what is wrong, the runs stay as they were.
    field = row.locator("input[name=cron]")
    field.fill("0 6 * * 9")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#schedule-weekly-steps .errors")).to_contain_text(
        "The day-of-week field '9' is not valid"
    )
    assert schedules.get("weekly-steps").schedule.cron == "0 6 * * 1"
    assert all(
        t.startswith("Mon")
        for t in page.locator("#schedule-weekly-steps .next-runs time").all_inner_texts()
    )

    # A good one: the reading and the next runs change in place.
    page.locator("#schedule-weekly-steps input[name=cron]").fill("30 7 * * 3")
    page.locator("#schedule-weekly-steps").get_by_role("button", name="Save").click()
    row = page.locator("#schedule-weekly-steps")
    expect(row).to_contain_text("At 07:30, only on Wednesday")
    expect(row.locator(".errors")).to_have_count(0)
    runs = row.locator(".next-runs time")
    expect(runs.first).to_have_text(re.compile(r"^Wed \d\d \w{3} 07:30 \w+$"))
    assert all(t.startswith("Wed") for t in runs.all_inner_texts())
    page.screenshot(path=artifacts / "schedules-edited.png", full_page=True)

    # Run now: a job starts; the last run links to it and follows it to its end.
    row.get_by_role("button", name="Run now").click()
    note = page.locator("#schedule-weekly-steps .note")
    expect(note).to_contain_text("Queued")
    job_id = int(note.get_attribute("data-job-id"))
    job = JobRun.objects.get(pk=job_id)
    assert (job.job_type, job.trigger) == ("test-steps", Trigger.WEB)
    last = page.locator("#last-run-weekly-steps")
    expect(last.locator(f'a[href="/jobs/{job_id}/"]')).to_be_visible()
    expect(last.locator(".badge.status-success")).to_be_visible(timeout=10_000)
    assert JobRun.objects.get(pk=job_id).status == JobStatus.SUCCESS
    page.screenshot(path=artifacts / "schedules-run-now.png", full_page=True)

    # Disable: the page says so, and Django-Q2's scheduler will not select it.
    page.locator("#schedule-weekly-steps").get_by_role("button", name="Disable").click()
    expect(page.locator("#schedule-weekly-steps")).to_have_attribute("data-enabled", "false")
    expect(page.locator("#schedule-weekly-steps .next-runs")).to_have_count(0)
    assert schedules.get("weekly-steps").schedule.repeats == 0

    # The dashboard shows no next scheduled job now that none is enabled.
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#next-schedule")).to_have_count(0)
