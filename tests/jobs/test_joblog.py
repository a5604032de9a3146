"""A job's own log (issue 15): the records of its threads, bounded, redacted, on its page."""

from __future__ import annotations

import logging
import threading

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from jobs import joblog, services
from jobs.joblog import MAX_BYTES, MAX_LINES, Line, LogBuffer
from jobs.models import JobLogLine, JobRun, JobStatus, Trigger
from jobs.redact import REDACTED, Redactor, redact_secrets
from jobs.runner import run_direct
from tests.cluster import manage, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = ("k3y-in-a-url", "bearer-value-123")


def messages(job: JobRun) -> list[str]:
    return [line.message for line in joblog.lines_of(job.pk)]


@pytest.fixture
def web(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user(username="alice"))
    return client


# -- redaction -----------------------------------------------------------------------------
def test_redaction_hides_secret_settings_and_credential_shapes(settings):
    settings.SOME_SERVICE_TOKEN = "tok-ABCDEF-123456"
    cases = {
        "token tok-ABCDEF-123456 rejected": "token [redacted] rejected",
        "GET /?api_key=abc123def&format=json": "GET /?api_key=[redacted]&format=json",
        "X-Plex-Token=zzzzzzzz": "X-Plex-Token=[redacted]",
        "Authorization: Bearer eyJhbGciOi.x.y": "Authorization: Bearer [redacted]",
        '{"client_secret": "s3cr3t-value"}': '{"client_secret": "[redacted]"}',
        "redis://user:hunter22@cache:6379/0": "redis://user:[redacted]@cache:6379/0",
        # Ordinary words stay: music metadata is full of "author"s and "keys".
        "author: Miles Davis, key of D": "author: Miles Davis, key of D",
    }
    for text, expected in cases.items():
        assert redact_secrets(text) == expected


def test_redaction_finds_url_encoded_secret_values(settings):
    settings.OTHER_API_KEY = "a/b+c=d&e"
    assert "a%2Fb%2Bc%3Dd%26e" not in redact_secrets("sent a%2Fb%2Bc%3Dd%26e along")


@given(
    secret=st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
        min_size=6,
        max_size=40,
    ),
    before=st.text(max_size=60),
    after=st.text(max_size=60),
)
def test_no_secret_value_survives_redaction_whatever_surrounds_it(secret, before, after):
    redacted = Redactor([secret])(f"{before}{secret}{after}{secret}")
    # The marker itself may spell part of a secret ("redact…"): look beside it only.
    assert secret not in redacted.replace(REDACTED, "\x00")


# -- the buffer ----------------------------------------------------------------------------
@given(sizes=st.lists(st.integers(min_value=0, max_value=5000), max_size=1500))
def test_the_buffer_keeps_the_newest_lines_within_its_bounds(sizes):
    buffer = LogBuffer(1)
    for n, size in enumerate(sizes):
        buffer.append(Line(0.0, logging.INFO, "t", f"{n}:" + "x" * size))
    kept = list(buffer._pending)
    assert len(kept) <= MAX_LINES
    assert sum(len(line.message) for line in kept) <= MAX_BYTES
    if kept:
        assert kept[-1].message.startswith(f"{len(sizes) - 1}:")


def test_dropped_lines_are_said_to_be_dropped():
    job = JobRun.objects.create(
        job_type="test-logging",
        window="w",
        trigger=Trigger.WEB,
        run_after=timezone.now(),
        queued_at=timezone.now(),
    )
    buffer = LogBuffer(job.pk)
    for n in range(MAX_LINES + 10):
        buffer.append(Line(0.0, logging.INFO, "t", f"line {n}"))
    assert buffer.flush() == MAX_LINES
    found = messages(job)
    assert found[0] == "… 11 earlier line(s) not kept: a run keeps its last 500 lines / 64 KB"
    assert found[-1] == f"line {MAX_LINES + 9}"


# -- through the runner (in this process) --------------------------------------------------


def test_the_log_has_the_job_threads_and_pool_threads_lines_but_not_the_runners():
    job = run_direct("test-logging", {"lines": 3, "threads": 3}, trigger=Trigger.CLI)
    found = messages(job)
    assert found[:3] == ["line 1 of 3", "line 2 of 3", "line 3 of 3"]
    assert sorted(m for m in found if m.startswith("from pool")) == [
        "from pool thread 0",
        "from pool thread 1",
        "from pool thread 2",
    ]
    assert found[-1] == "holding"
    # The runner's own bookkeeping ("started", "ended") is in the process's log, not here.
    assert not any("started, attempt" in m or " ended " in m for m in found)
    line = joblog.lines_of(job.pk)[0]
    assert (line.logger, line.level, line.attempt) == ("tests.jobapp.logging", logging.INFO, 1)


def test_a_failure_leaves_its_traceback_in_the_log():
    job = run_direct("test-logging", {"lines": 1, "fail": True})
    assert job.status == JobStatus.FAILED
    last = joblog.lines_of(job.pk)[-1]
    assert last.level == logging.ERROR
    assert "Traceback (most recent call last)" in last.message
    assert "ValueError: failed on purpose" in last.message


def test_the_stored_log_contains_no_secret():
    job = run_direct("test-logging", {"lines": 1, "secrets": True})
    text = "\n".join(messages(job))
    for secret in (*SECRETS, settings.SECRET_KEY):
        assert secret not in text
    assert text.count(REDACTED) >= 3


def test_the_log_is_bounded_to_the_last_lines_and_bytes():
    job = run_direct("test-logging", {"lines": 3000, "width": 300})
    stored = JobLogLine.objects.filter(job=job)
    assert stored.count() <= MAX_LINES
    assert sum(len(m) for m in stored.values_list("message", flat=True)) <= MAX_BYTES
    found = messages(job)
    assert found[-1] == "holding"
    assert found[-2].startswith("line 3000 of 3000")


def test_the_reporter_stores_lines_while_the_job_runs_and_records_outside_jobs_are_not_kept():
    done: list[JobRun] = []

    def run() -> None:
        try:
            done.append(run_direct("test-logging", {"lines": 2, "hold_ms": 30_000}))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        job = wait_for(lambda: JobRun.objects.filter(status=JobStatus.RUNNING).first())
        wait_for(lambda: "holding" in messages(job), timeout=10, what="lines stored while running")
        assert JobRun.objects.get(pk=job.pk).status == JobStatus.RUNNING
        logging.getLogger("tests.elsewhere").warning("not from a job")
    finally:
        services.cancel_running()
        thread.join(15)
    assert done[0].status == JobStatus.CANCELLED
    assert not JobLogLine.objects.filter(message="not from a job").exists()
    assert messages(done[0]) == ["line 1 of 2", "line 2 of 2", "holding"]


def test_a_later_attempt_keeps_the_earlier_attempts_lines_within_the_bound():
    job = run_direct("test-logging", {"lines": 400})
    # As if the queue ran it again (a rescue or a retry with backoff).
    buffer = LogBuffer(job.pk, attempt=2)
    for n in range(300):
        buffer.append(Line(0.0, logging.INFO, "t", f"attempt 2 line {n}"))
    joblog.store_final(buffer)
    lines = joblog.lines_of(job.pk)
    assert len(lines) == MAX_LINES
    assert lines[-1].message == "attempt 2 line 299"
    assert lines[0].attempt == 1  # the newest of attempt 1 are still there


# -- the page, the CLI, cron ---------------------------------------------------------------
def test_the_detail_page_shows_the_log_and_jobs_show_prints_it(web):
    job = run_direct("test-logging", {"lines": 2, "secrets": True})
    page = web.get(f"/jobs/{job.pk}/").content.decode()
    assert "line 2 of 2" in page and "signing with [redacted]" in page
    assert not any(secret in page for secret in (*SECRETS, settings.SECRET_KEY))
    proc = manage("jobs", "show", str(job.pk), "--log")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "line 1 of 2" in out and "tests.jobapp.logging" in out
    assert "k3y-in-a-url" not in out


def test_a_cron_run_logs_to_its_output_and_to_the_job():
    proc = manage("run_logging", "--lines", "2", "--threads", "1", "--scheduled")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "line 2 of 2" in err and "from pool thread 0" in err  # nothing swallowed
    job = JobRun.objects.get()
    assert job.trigger == Trigger.SCHEDULE
    assert "from pool thread 0" in messages(job)


@pytest.mark.cluster
@pytest.mark.usefixtures("drained")
def test_a_running_jobs_log_appears_live_on_its_page_through_the_cluster(web):
    job = services.enqueue(
        job_type="test-logging",
        params={"lines": 2, "threads": 2, "secrets": True, "hold_ms": 60_000},
    )
    live = wait_for(
        lambda: (
            (body := web.get(f"/jobs/{job.pk}/live").content.decode())
            and "from pool thread 1" in body
            and "holding" in body
            and body
        ),
        timeout=30,
        what="the log on the live partial",
    )
    assert 'data-status="running"' in live  # while it runs, not after
    assert "Authorization: Bearer [redacted]" in live
    assert not any(secret in live for secret in (*SECRETS, settings.SECRET_KEY))
    services.cancel_job(job_id=job.pk)
    wait_for(lambda: JobRun.objects.get(pk=job.pk).status == JobStatus.CANCELLED, timeout=20)
    assert "from pool thread 0" in web.get(f"/jobs/{job.pk}/").content.decode()
