"""A person's route through the web UI, in a real browser, on a real cluster."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from jobs import services
from jobs.models import JobRun, JobStatus
from tests.cluster import wait_for

pytestmark = [pytest.mark.cluster]

LIVE = "/partials/live"


def test_start_watch_cancel_and_polling_stops(page, live_server, artifacts):
    polls: list[tuple[float, str]] = []
    page.on(
        "request",
        lambda request: (
            polls.append((time.monotonic(), request.url)) if LIVE in request.url else None
        ),
    )
    # Nothing runs: the dashboard does not poll.
    expect(page.locator("#live")).to_have_attribute("data-polling", "false")

    form = page.locator("#start-test-steps")
    form.locator("input[name=steps]").fill("80")
    form.locator("input[name=step_ms]").fill("100")
    form.locator("input[name=source]").fill("plex")
    form.locator("button[type=submit]").click()
    note = page.locator("#start-test-steps .note")
    expect(note).to_contain_text("Queued")
    job_id = int(note.get_attribute("data-job-id"))
    card = page.locator(f"#job-{job_id}")
    bar = card.locator("progress")

    # The bar's value grows over at least three polls, with an ETA shown.
    values: list[float] = []
    for _ in range(3):
        page.wait_for_function(
            "([sel, prev]) => { const b = document.querySelector(sel);"
            " return b && b.hasAttribute('value') && Number(b.value) > prev; }",
            arg=[f"#job-{job_id} progress", values[-1] if values else 0],
            timeout=5_000,
        )
        values.append(float(bar.get_attribute("value")))
    assert values == sorted(values) and len(set(values)) == 3
    assert len(polls) >= 3
    expect(card.locator(".eta")).to_have_text(re.compile(r"ETA \d+(ms|s| ms)"))
    expect(card.locator(".sources")).to_contain_text("plex")
    page.screenshot(path=artifacts / "dashboard-mid-job.png", full_page=True)

    # Cancel: the run shows as cancelled within 2 s.
    card.locator("button.cancel").click()
    expect(page.locator(f"#run-{job_id} .badge")).to_have_text("cancelled", timeout=2_000)
    assert JobRun.objects.get(pk=job_id).status == JobStatus.CANCELLED

    # Nothing runs any more: no polling request for 5 s.
    expect(page.locator("#live")).to_have_attribute("data-polling", "false")
    quiet_from = time.monotonic()
    page.wait_for_timeout(5_000)  # an observation window, not a synchronisation
    assert [url for at, url in polls if at > quiet_from] == []

    # Starting a job from the page starts the polling again.
    form.locator("input[name=steps]").fill("30")
    form.locator("button[type=submit]").click()
    expect(page.locator("#live")).to_have_attribute("data-polling", "true")
    wait_for(lambda: [u for at, u in polls if at > quiet_from + 5], timeout=5, what="a poll")


def test_job_detail_shows_live_progress_and_cancels(page, live_server, artifacts):
    job = services.enqueue(job_type="test-steps", params={"steps": 60, "step_ms": 100})
    page.goto(f"/jobs/{job.pk}/")
    expect(page.locator("#job-status")).to_have_text("running")
    bar = page.locator("#job-live progress")
    page.wait_for_function("() => Number(document.querySelector('#job-live progress')?.value) >= 5")
    expect(page.locator("#job-live .eta")).to_have_text(re.compile(r"ETA"))
    expect(page.locator(".pairs").first).to_contain_text("Steps")
    page.screenshot(path=artifacts / "job-detail.png", full_page=True)
    assert float(bar.get_attribute("value")) >= 5

    page.locator("#job-live button.cancel").click()
    expect(page.locator("#job-status")).to_have_text("cancelled", timeout=2_000)
    expect(page.locator("#job-live")).to_have_attribute("data-polling", "false")
    expect(page.locator("#job-live .timeline")).to_contain_text("Cancel asked")


def test_cancel_all_running_after_confirming(page, live_server):
    jobs = [
        services.enqueue(job_type="test-steps", params={"steps": 200, "step_ms": 50})
        for _ in range(2)
    ]
    wait_for(
        lambda: JobRun.objects.filter(pk__in=[j.pk for j in jobs], status="running").count() == 2,
        timeout=20,
        what="both jobs to run",
    )
    page.reload()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel all running").click()
    expect(page.locator("#notice")).to_have_text("Asked 2 running jobs to stop.")
    for job in jobs:
        expect(page.locator(f"#run-{job.pk} .badge")).to_have_text("cancelled", timeout=3_000)


def test_a_failed_job_shows_why_and_bad_params_name_the_field(page, live_server, artifacts):
    job = services.enqueue(job_type="test-steps", params={"steps": 5, "step_ms": 0, "fail_at": 2})
    wait_for(
        lambda: JobRun.objects.get(pk=job.pk).status == JobStatus.FAILED,
        timeout=15,
        what="the job to fail",
    )
    page.goto(f"/jobs/{job.pk}/")
    # A sentence; the class name is the traceback's (issue 16).
    expect(page.locator("#job-live .error")).to_contain_text("Step 2 failed")
    expect(page.locator("#job-status")).to_have_text("failed")

    page.goto("/")
    expect(page.locator(f"#run-{job.pk} .error")).to_have_text("Step 2 failed")
    form = page.locator("#start-test-steps")
    form.locator("input[name=steps]").fill("-3")
    # The browser's own check would stop a negative number; the server's is what counts.
    form.evaluate("f => f.noValidate = true")
    form.locator("button[type=submit]").click()
    field = page.locator("#start-test-steps .field.invalid")
    expect(field).to_contain_text("greater than or equal to 0")
    expect(field.locator("input")).to_have_attribute("name", "steps")


def test_readable_on_a_phone(browser, live_server, user, artifacts):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    tab = context.new_page()
    tab.goto("/login/")
    tab.fill("input[name=username]", user.username)
    tab.fill("input[name=password]", "browser-pass-123")
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{live_server.url}/")
    services.enqueue(job_type="test-steps", params={"steps": 40, "step_ms": 100})
    tab.goto("/")
    expect(tab.locator(".job.card").first).to_be_visible()
    for path in ("/", "/jobs/"):
        tab.goto(path)
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    tab.goto("/")
    tab.screenshot(path=artifacts / "dashboard-phone.png", full_page=True)
    context.close()


def test_a_start_form_sends_its_checkboxes_ticked_or_not(page, live_server):
    """In a real browser (htmx serialises the form): an unticked box means false, a ticked
    one true, whatever the default (the hidden "false" before each box)."""
    form = page.locator("#start-cache-warm")
    submitted, job_id = [], 0
    for skip_cached, dry_run in [(False, True), (True, False)]:
        form.locator("input[type=checkbox][name=skip_cached]").set_checked(skip_cached)
        form.locator("input[type=checkbox][name=dry_run]").set_checked(dry_run)
        form.locator("button[type=submit]").click()
        # The new job's note, not the one the previous submit left.
        note = page.locator(f"#start-cache-warm .note:not([data-job-id='{job_id}'])")
        expect(note).to_contain_text("Queued")
        job_id = int(note.get_attribute("data-job-id"))
        submitted.append(JobRun.objects.get(pk=job_id).params)
        # No Plex is configured: the job fails at once, and the next one is a new job.
        finished = JobRun.objects.filter(pk=job_id, finished_at__isnull=False).exists
        wait_for(finished, timeout=15, what="the job to end")
        form = page.locator("#start-cache-warm")
    assert [(p["skip_cached"], p["dry_run"]) for p in submitted] == [(False, True), (True, False)]
