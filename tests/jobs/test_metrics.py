"""``/metrics`` (issue 15): Prometheus text that parses, whose numbers are the rows' — before
and after the maintenance rolls finished runs up, and after old history is pruned."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from jobs import maintenance, metrics
from jobs.context import Usage
from jobs.metrics import DURATION_BUCKETS, WAIT_BUCKETS
from jobs.models import FINISHED_STATUSES, JobMetricTotal, JobRun, JobStatus, Trigger
from jobs.runner import run_direct
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789"
INF = float("inf")


@pytest.fixture
def token(settings):
    settings.PLAYLISTER_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    client = client or Client()
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def run(job_type="test-steps", status=JobStatus.SUCCESS, *, duration=None, wait=1.3, **kw):
    """A finished run that ended two hours ago, ``wait`` s after it was queued (no value on a
    bucket bound: SQLite's julianday arithmetic may land either side of it)."""
    end = timezone.now() - timedelta(hours=2)
    started = None if duration is None else end - timedelta(seconds=duration)
    queued = (started or end) - timedelta(seconds=wait)
    return JobRunFactory(
        job_type=job_type,
        status=status,
        queued_at=queued,
        run_after=queued,
        started_at=started,
        finished_at=end,
        attempt=kw.pop("attempt", 1 if started else 0),
        **kw,
    )


@pytest.fixture
def history():
    """Finished runs of two types with known durations, waits, retries and usage, plus
    queued and running jobs."""
    first = run(duration=0.05, wait=0.02)
    run(duration=0.3, wait=0.3, retry_of=first)
    run(status=JobStatus.FAILED, duration=2.2, wait=3.3, attempt=3)
    run(status=JobStatus.FAILED, duration=7, wait=40)
    run(status=JobStatus.CANCELLED, duration=None)  # cancelled before it started
    run(duration=45, wait=0, direct=True, trigger=Trigger.CLI)  # never waited in a queue
    run(
        "test-flaky",
        duration=700,
        wait=700,
        usage={
            "svc-a": {"requests": 10, "errors": 2, "wait_seconds": 1.5},
            "Svc B · ünïcode": {"requests": 3, "errors": 0, "wait_seconds": 0},
        },
    )
    run("test-flaky", JobStatus.FAILED, duration=3, usage={"svc-a": {"requests": 4, "errors": 4}})
    JobRunFactory(), JobRunFactory(job_type="test-flaky")  # queued
    JobRunFactory(status=JobStatus.RUNNING, attempt=1, started_at=timezone.now())
    JobRunFactory(status=JobStatus.RUNNING, attempt=1, started_at=timezone.now(), direct=True)


def expected() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """What /metrics must say, computed here from the rows one by one."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)

    def add(name: str, value: float, **labels: str) -> None:
        out[(name, tuple(sorted(labels.items())))] += value

    def histogram(name: str, value: float, bounds, **labels: str) -> None:
        for bound in [*bounds, INF]:
            le = "+Inf" if bound == INF else repr(float(bound))
            add(f"{name}_bucket", 1 if value <= bound else 0, le=le, **labels)
        add(f"{name}_count", 1, **labels)
        add(f"{name}_sum", value, **labels)

    for job in JobRun.objects.all():
        if job.status not in FINISHED_STATUSES:
            continue
        add("jobs_runs_total", 1, job_type=job.job_type, status=job.status)
        if job.started_at is not None and job.finished_at is not None:
            seconds = (job.finished_at - job.started_at).total_seconds()
            histogram(
                "jobs_run_duration_seconds",
                seconds,
                DURATION_BUCKETS,
                job_type=job.job_type,
                status=job.status,
            )
            if not job.direct:
                waited = (job.started_at - job.queued_at).total_seconds()
                histogram("jobs_wait_seconds", waited, WAIT_BUCKETS, job_type=job.job_type)
        if job.retry_of_id:
            add("jobs_retries_total", 1, job_type=job.job_type, kind="manual")
        if job.attempt > 1:
            add("jobs_retries_total", job.attempt - 1, job_type=job.job_type, kind="automatic")
        for name, counts in job.usage.items():
            labels = {"provider": name, "job_type": job.job_type}
            add("jobs_provider_requests_total", counts.get("requests", 0), **labels)
            add("jobs_provider_errors_total", counts.get("errors", 0), **labels)
            add(
                "jobs_provider_rate_limit_wait_seconds_total",
                counts.get("wait_seconds", 0),
                **labels,
            )
    queued = Counter(
        JobRun.objects.filter(status=JobStatus.QUEUED, direct=False).values_list(
            "job_type", flat=True
        )
    )
    running = Counter(
        JobRun.objects.filter(status=JobStatus.RUNNING).values_list("job_type", flat=True)
    )
    for job_type in ("test-steps", "test-flaky"):
        add("jobs_queue_depth", queued[job_type], job_type=job_type)
        add("jobs_running", running[job_type], job_type=job_type)
    return dict(out)


COUNTED = (
    "jobs_runs_total",
    "jobs_run_duration_seconds_",
    "jobs_wait_seconds_",
    "jobs_retries_total",
    "jobs_provider_",
)


def assert_matches(scraped, wanted) -> None:
    for key, value in wanted.items():
        assert scraped.get(key) == pytest.approx(value, abs=1e-3), key
    # Nothing counted that the rows do not hold (no run counted twice, nor invented).
    extra = {
        key: value
        for key, value in scraped.items()
        if key[0].startswith(COUNTED) and value and key not in wanted
    }
    assert not extra


# -- access ----------------------------------------------------------------------------------
def test_without_a_token_or_a_login_the_answer_is_401_json(client, token):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert "PLAYLISTER_METRICS_TOKEN" in response.json()["error"]
        assert TOKEN not in response.content.decode()
    assert client.post("/metrics").status_code == 405


def test_an_unset_token_lets_no_bearer_in(client, settings):
    settings.PLAYLISTER_METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401


def test_the_bearer_token_or_a_login_reads_it(client, token, django_user_model):
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    client.force_login(django_user_model.objects.create_user(username="alice"))
    assert client.get("/metrics").status_code == 200


def test_a_scrape_with_the_token_is_two_queries(client, token, history, django_assert_num_queries):
    # Where the roll-up stands, then everything else; no session.
    with django_assert_num_queries(2):
        scrape(client)


# -- the numbers -----------------------------------------------------------------------------
def test_the_numbers_match_the_rows(token, history):
    assert_matches(scrape(), expected())


def test_the_numbers_stay_right_across_roll_ups_new_runs_and_pruning(token, history):
    wanted = expected()
    assert metrics.roll_up() >= 1
    assert JobMetricTotal.objects.exists()
    assert_matches(scrape(), wanted)
    assert metrics.roll_up() == 0  # nothing new has settled

    # A run that ends now is counted at once, from job_runs.
    fresh = JobRunFactory(
        status=JobStatus.FAILED,
        started_at=timezone.now() - timedelta(seconds=4.2),
        queued_at=timezone.now() - timedelta(seconds=6),
        finished_at=timezone.now(),
        attempt=2,
    )
    wanted = expected()
    assert_matches(scrape(), wanted)

    # Pruning deletes what is rolled up, never what is not; the counters do not go down.
    pruned = maintenance.prune_history(retention_days=0)
    assert pruned == 8
    assert JobRun.objects.filter(pk=fresh.pk).exists()
    assert_matches(scrape(), wanted)


@pytest.mark.django_db(transaction=True)
def test_concurrent_roll_ups_count_each_run_once(token, history):
    wanted = expected()
    barrier = threading.Barrier(3)

    def roll() -> None:
        try:
            barrier.wait()
            metrics.roll_up(settle=timedelta(0))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=roll) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert_matches(scrape(), wanted)
    assert metrics.roll_up(settle=timedelta(0)) == 0  # nothing ended since


def test_every_registered_type_has_a_queue_depth_and_the_buckets_are_cumulative(token, history):
    scraped = scrape()
    assert scraped[("jobs_queue_depth", (("job_type", "test-unique"),))] == 0
    key = (("job_type", "test-steps"), ("le", "5.0"), ("status", "failed"))
    assert scraped[("jobs_run_duration_seconds_bucket", key)] == 1  # 2.2 s, not 7 s


# -- usage from a real run -------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_runs_usage_from_all_its_threads_reaches_the_metrics(token):
    ok = run_direct("test-logging", {"lines": 4, "threads": 2, "service": "svc-a"})
    failed = run_direct("test-logging", {"lines": 1, "service": "svc-a", "fail": True})
    assert ok.usage == {"svc-a": {"requests": 6, "errors": 0, "wait_seconds": 1.0}}
    assert failed.usage == {"svc-a": {"requests": 1, "errors": 1, "wait_seconds": 0.25}}
    scraped = scrape()
    labels = (("job_type", "test-logging"), ("provider", "svc-a"))
    assert scraped[("jobs_provider_requests_total", labels)] == 7
    assert scraped[("jobs_provider_errors_total", labels)] == 1
    assert scraped[("jobs_provider_rate_limit_wait_seconds_total", labels)] == 1.25


def test_usage_carries_over_from_earlier_attempts():
    usage = Usage({"svc": {"requests": 2, "errors": 1, "wait_seconds": 0.5}, "junk": "x"})
    usage.add("svc", requests=1)
    usage.add("other", errors=1)
    assert usage.as_json() == {
        "other": {"requests": 0, "errors": 1, "wait_seconds": 0.0},
        "svc": {"requests": 3, "errors": 1, "wait_seconds": 0.5},
    }
