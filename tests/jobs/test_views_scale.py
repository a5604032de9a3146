"""The dashboard and history on a ``job_runs`` table of 100,000 rows: a fixed number of
queries per request, and the history query served from an index (checked with EXPLAIN)."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jobs import queries
from jobs.models import JobRun
from playlister.windows import DAILY
from testkit.job_rows import fill_job_runs

pytestmark = pytest.mark.django_db

ROWS = 100_000
HTMX = {"HX-Request": "true"}
# The user (the session comes from the cache), then: active jobs (the queue stats are counted
# from them), recent history.
DASHBOARD_QUERIES = 3
# The page (not its live partial) also shows the next scheduled job and the queue control
# (the lanes' rows; the running runs' types, which count towards each lane's limit).
DASHBOARD_PAGE_QUERIES = DASHBOARD_QUERIES + 3
# The user, then the one page query.
HISTORY_PARTIAL_QUERIES = 2


@pytest.fixture(scope="module")
def big_table(django_db_setup, django_db_blocker):
    """100,000 runs, inserted once per module (``testkit.job_rows``)."""
    with django_db_blocker.unblock():
        fill_job_runs(
            ROWS,
            types=[("test-steps", "test-steps"), ("test-flaky", "test-flaky")]
            + [("playlist", window) for window in DAILY],
        )
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM job_runs")


@pytest.fixture
def web(big_table, django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user(username="bob", password="pw"))
    return client


def timed_get(client: Client, path: str, **kwargs):
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        response = client.get(path, **kwargs)
        elapsed = time.perf_counter() - started
    print(f"\n{path} {kwargs.get('headers', '')}: {len(ctx)} queries, {elapsed * 1000:.1f} ms")
    return response, ctx


def test_dashboard_and_its_live_partial_use_a_fixed_number_of_queries(web):
    assert JobRun.objects.count() == ROWS
    page, ctx = timed_get(web, "/")
    assert page.status_code == 200
    assert len(ctx) == DASHBOARD_PAGE_QUERIES, [q["sql"] for q in ctx]
    partial, ctx = timed_get(web, "/partials/live", headers=HTMX)
    assert partial.status_code == 200  # jobs are running: keep polling
    assert len(ctx) == DASHBOARD_QUERIES, [q["sql"] for q in ctx]
    assert partial.content.count(b'class="job card"') == 10


@pytest.mark.parametrize(
    "query",
    ["", "status=failed", "type=test-flaky", "trigger=cli", "type=playlist&status=cancelled"],
)
def test_history_partial_uses_a_fixed_number_of_queries_on_any_page(web, query):
    first, ctx = timed_get(web, f"/jobs/?{query}", headers=HTMX)
    assert len(ctx) == HISTORY_PARTIAL_QUERIES
    assert first.content.count(b'id="run-') == 50
    deep = JobRun.objects.order_by("id").values_list("id", flat=True)[500]
    sep = "&" if query else ""
    later, ctx = timed_get(web, f"/jobs/?{query}{sep}before={deep}", headers=HTMX)
    assert len(ctx) == HISTORY_PARTIAL_QUERIES
    assert later.status_code == 200


def test_history_page_and_its_metrics(web):
    page, ctx = timed_get(web, "/jobs/")
    assert page.status_code == 200
    assert len(ctx) == HISTORY_PARTIAL_QUERIES
    metrics, ctx = timed_get(web, "/jobs/metrics", headers=HTMX)
    assert metrics.status_code == 200
    # The user, the GROUP BY, then one p95 query per job type and window (five here).
    assert len(ctx) == 1 + 1 + 5


def test_history_charts_cost_one_group_by_each(web):
    charts, ctx = timed_get(web, "/jobs/charts", headers=HTMX)
    assert charts.status_code == 200
    # The user, then runs per day by status and durations per type per day.
    assert len(ctx) == 1 + 2, [q["sql"] for q in ctx]
    assert charts.content.count(b'data-chart="') == 2


def plan_of(filters: queries.HistoryFilters, **cursor) -> str:
    qs = queries.history_queryset(filters, **cursor)[:51]
    return qs.explain()


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (queries.HistoryFilters(), "pk"),
        (queries.HistoryFilters(status="failed"), "job_runs_status"),
        (queries.HistoryFilters(job_type="test-flaky"), "job_runs_type"),
        (queries.HistoryFilters(trigger="cli"), "job_runs_trigger"),
    ],
)
def test_history_is_served_from_an_index(big_table, filters, index):
    middle = JobRun.objects.order_by("id").values_list("id", flat=True)[ROWS // 2]
    for cursor in ({}, {"before": middle}, {"after": middle}):
        plan = plan_of(filters, **cursor)
        print(f"\n{filters} {cursor}:\n{plan}")
        if connection.vendor == "postgresql":
            assert "Index Scan" in plan or "Index Only Scan" in plan
            assert "Seq Scan" not in plan
            assert "Sort" not in plan
        else:
            # SQLite walks the rowid b-tree (the primary key) or names the index it searches;
            # either way rows come in order, never through a temporary sort.
            assert "TEMP B-TREE" not in plan
            if index == "pk":
                assert "SCAN job_runs" in plan or "INTEGER PRIMARY KEY" in plan
            else:
                assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan
