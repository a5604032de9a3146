"""The history page's charts (``jobs.charts``, ``jobs.views.charts``): days in the viewer's
zone counted by the database (across daylight-saving changes and half-hour zones), bounded,
filtered like the page, and said again in a table beside each chart."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from jobs import charts
from jobs.models import JobStatus
from jobs.queries import HistoryFilters
from jobs.views.zone import COOKIE
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def run_at(at: datetime, *, status: str = JobStatus.SUCCESS, seconds: float = 2.0, **kwargs):
    return JobRunFactory(
        status=status,
        queued_at=at,
        started_at=at,
        finished_at=at + timedelta(seconds=seconds),
        attempt=1,
        **kwargs,
    )


def _counts(chart: charts.Chart) -> dict[date, dict[str, float | None]]:
    return {
        day: {s.label: s.values[n] for s in chart.series if s.values[n]}
        for n, day in enumerate(chart.days)
        if any(s.values[n] for s in chart.series)
    }


@pytest.mark.parametrize(
    ("zone", "instants"),
    [
        # Paris around the spring change (02:00 CET → 03:00 CEST on 30 March 2025).
        ("Europe/Paris", ["2025-03-29T22:59:59", "2025-03-29T23:00:00", "2025-03-30T00:30:00",
                          "2025-03-30T21:59:59", "2025-03-30T22:00:00"]),
        # ... and the autumn one (03:00 CEST → 02:00 CET on 26 October 2025).
        ("Europe/Paris", ["2025-10-25T21:59:59", "2025-10-25T22:00:00", "2025-10-26T00:30:00",
                          "2025-10-26T01:30:00", "2025-10-26T22:59:59", "2025-10-26T23:00:00"]),
        # A half-hour zone; and New York, whose day starts five hours after UTC's.
        ("Asia/Kolkata", ["2025-06-01T18:29:59", "2025-06-01T18:30:00"]),
        ("America/New_York", ["2025-11-02T04:59:59", "2025-11-02T05:00:00", "2025-11-03T04:59:59"]),
    ],
)  # fmt: skip
def test_runs_count_for_the_day_they_were_queued_on_in_the_viewer_s_zone(zone, instants):
    moments = [datetime.fromisoformat(i).replace(tzinfo=UTC) for i in instants]
    for at in moments:
        run_at(at)
    tz = ZoneInfo(zone)
    expected: dict[date, dict[str, float | None]] = {}
    for at in moments:
        day = at.astimezone(tz).date()
        counted = expected.setdefault(day, {"Success": 0.0})
        counted["Success"] = (counted["Success"] or 0.0) + 1
    with timezone.override(tz):
        days = sorted(expected)
        start = datetime.combine(days[0] - timedelta(days=1), datetime.min.time())
        end = datetime.combine(days[-1] + timedelta(days=2), datetime.min.time())
        filters = HistoryFilters(since=timezone.make_aware(start), until=timezone.make_aware(end))
        chart = charts.runs_per_day(filters)
    assert _counts(chart) == expected


def test_a_long_range_is_cut_to_its_last_days_and_every_day_has_a_value():
    now = timezone.now()
    run_at(now - timedelta(days=200))
    run_at(now - timedelta(days=3), status=JobStatus.FAILED)
    filters = HistoryFilters(since=now - timedelta(days=365))
    chart = charts.runs_per_day(filters, now=now)
    assert len(chart.days) == charts.MAX_DAYS and chart.cut
    assert [s.label for s in chart.series] == ["Failed"]  # the old run is outside the chart
    assert all(len(s.values) == len(chart.days) for s in chart.series)


def test_durations_per_type_average_finished_runs_and_leave_days_without_runs_empty(
    django_assert_num_queries,
):
    now = timezone.now()
    for seconds in (2, 4):
        run_at(now - timedelta(days=1), seconds=seconds)
    run_at(now - timedelta(days=1), seconds=60, job_type="test-flaky", window="test-flaky")
    JobRunFactory(status=JobStatus.QUEUED)  # not finished: no duration
    with django_assert_num_queries(1):
        chart = charts.durations_per_day(HistoryFilters(), labels={"test-steps": "Test steps"})
    series = {s.label: s for s in chart.series}
    assert set(series) == {"Test steps", "test-flaky"}
    yesterday = chart.days.index(timezone.localdate(now - timedelta(days=1)))
    assert series["Test steps"].values[yesterday] == pytest.approx(3.0, abs=0.01)
    assert series["test-flaky"].values[yesterday] == pytest.approx(60.0, abs=0.01)
    assert series["Test steps"].values[0] is None


@pytest.fixture
def web(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user(username="eve", password="pw-12345"))
    return client


def test_the_charts_partial_draws_from_json_and_says_it_in_tables(web, django_assert_num_queries):
    now = timezone.now()
    run_at(now - timedelta(days=2))
    run_at(now - timedelta(days=1), status=JobStatus.FAILED, seconds=65)
    page = web.get("/jobs/").content.decode()
    assert 'hx-get="/jobs/charts" hx-trigger="load"' in page
    assert '<script src="/static/vendor/uplot-1.6.32.min.js" defer>' in page
    with django_assert_num_queries(3):  # the user, then one GROUP BY per chart
        html = web.get("/jobs/charts", headers=HTMX).content.decode()
    data = json.loads(re.search(r'id="chart-runs-per-day-data"[^>]*>(.*?)</script>', html).group(1))
    assert [s["label"] for s in data["series"]] == ["Success", "Failed"]
    assert len(data["x"]) == charts.DEFAULT_DAYS
    table = html[html.index('id="chart-durations"') :]
    assert '<th scope="col" class="num">Test steps</th>' in table
    assert "1m 05s" in table  # the failed run's duration, in words
    assert 'aria-hidden="true"' in html  # the canvas; the tables are what a reader hears


def test_the_charts_follow_the_filter_and_say_when_nothing_matches(web):
    run_at(timezone.now() - timedelta(hours=1))
    html = web.get("/jobs/charts?status=failed", headers=HTMX).content.decode()
    assert html.count("No runs match these filters in this period.") == 2


def test_the_viewer_s_zone_comes_from_its_cookie_and_junk_is_ignored(web):
    job = run_at(datetime(2025, 6, 1, 18, 30, tzinfo=UTC))
    web.cookies[COOKIE] = "Asia/Kolkata"
    html = web.get(f"/jobs/{job.pk}/").content.decode()
    assert "2025-06-02 00:00:00 IST" in html
    assert '<strong id="viewer-tz">Asia/Kolkata</strong>, this browser' in html
    for junk in ("Mars/Olympus", "../../etc/passwd", "x" * 200, ""):
        web.cookies[COOKIE] = junk
        html = web.get(f"/jobs/{job.pk}/").content.decode()
        assert "2025-06-01 18:30:00 UTC" in html
        assert "the server's time zone (PLAYLISTER_TIME_ZONE)" in html
