"""1,000 enqueues over HTTP from 10 threads, against a live server and a real cluster."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from jobs.models import JobRun, JobStatus
from tests.cluster import max_overlap, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

THREADS = 10
PER_THREAD = 100


def _session(base: str) -> requests.Session:
    """A logged-in browser-like session: the login form, its CSRF cookie and token."""
    session = requests.Session()
    session.get(f"{base}/login/", timeout=10)
    token = session.cookies["csrftoken"]
    response = session.post(
        f"{base}/login/",
        data={"username": "loader", "password": "load-test-pass", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        timeout=10,
    )
    response.raise_for_status()
    session.headers.update({"X-CSRFToken": session.cookies["csrftoken"], "Referer": base})
    return session


def test_a_thousand_enqueues_over_http(live_server, cluster, django_user_model, caplog):
    django_user_model.objects.create_user("loader", password="load-test-pass")
    base = live_server.url
    sessions = [_session(base) for _ in range(THREADS)]
    statuses: list[int] = []
    lock = threading.Lock()

    def load(session: requests.Session) -> None:
        for _ in range(PER_THREAD):
            response = session.post(
                f"{base}/actions/test-steps/start",
                json={"steps": 1, "step_ms": 0},
                timeout=30,
            )
            with lock:
                statuses.append(response.status_code)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(load, sessions))
    assert statuses.count(202) == THREADS * PER_THREAD, set(statuses)
    assert JobRun.objects.count() == THREADS * PER_THREAD

    wait_for(
        lambda: not JobRun.objects.exclude(status=JobStatus.SUCCESS).exists(),
        timeout=180,
        interval=0.5,
        what="all 1,000 jobs to succeed",
    )
    jobs = list(JobRun.objects.all())
    assert max_overlap(jobs) <= 2
    if connection.vendor == "sqlite":
        assert "database is locked" not in cluster.log()
        assert "database is locked" not in caplog.text
