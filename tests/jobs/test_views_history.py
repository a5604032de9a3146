"""The history page: filters, keyset paging, its rows, metrics and links (test client)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from jobs.models import JobStatus, Trigger
from tests.factories import JobRunFactory, finished, run_row, running

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_history_filters_by_type_status_trigger_and_dates(web):
    old = finished(queued_at=timezone.now() - timedelta(days=10))
    failed = finished(status=JobStatus.FAILED, error="boom")
    cli = finished(trigger=Trigger.CLI)
    other = finished(job_type="test-flaky", window="test-flaky")

    def ids(query: str) -> set[int]:
        html = web.get(f"/jobs/?{query}").content.decode()
        return {int(i) for i in re.findall(r'id="run-(\d+)"', html)}

    assert ids("") == {old.pk, failed.pk, cli.pk, other.pk}
    assert ids("status=failed") == {failed.pk}
    assert ids("trigger=cli") == {cli.pk}
    assert ids("type=test-flaky") == {other.pk}
    today = timezone.localdate()
    assert old.pk not in ids(f"since={today - timedelta(days=1)}")
    assert ids(f"until={today - timedelta(days=5)}") == {old.pk}
    assert ids(f"since={today}&until={today}&status=success&trigger=web") == {other.pk}


def test_history_reports_bad_filters_and_ignores_them(web):
    job = finished()
    response = web.get("/jobs/?status=exploded&since=yesterday")
    assert response.status_code == 400
    html = response.content.decode()
    errors = html[html.index('id="filter-errors"') :]
    errors = errors[: errors.index("</div>")]
    # Named below the filter bar, not inside a field (which made it taller than the rest).
    assert "<strong>Status:</strong> Select a valid choice" in errors
    assert "<strong>From:</strong> Enter a valid date" in errors
    start = html.index('class="filters')
    form = html[start : html.index("</form>", start)]
    assert "errorlist" not in form and 'aria-invalid="true"' in form
    assert f'id="run-{job.pk}"' in html


def test_an_unknown_type_is_refused_not_offered(web):
    finished(job_type="gone-type", window="gone-type")
    response = web.get("/jobs/?type=gone-type")
    assert response.status_code == 400
    html = response.content.decode()
    assert "<strong>Type:</strong> Select a valid choice. gone-type is not one" in html
    dropdown = html[html.index('name="type"') : html.index("</select>")]
    assert "gone-type" not in dropdown
    assert 'value="test-steps"' in dropdown


def test_an_empty_result_says_whether_filters_chose_it(web):
    assert "No runs yet." in web.get("/jobs/").content.decode()
    finished()
    html = web.get("/jobs/?status=failed").content.decode()
    assert "No runs match these filters." in html
    metrics = web.get("/jobs/metrics?status=failed").content.decode()
    assert "No finished runs match these filters in this period." in metrics


def test_history_pages_with_keyset_cursors(web):
    jobs = [finished() for _ in range(120)]
    newest_first = [j.pk for j in reversed(jobs)]

    first = web.get("/jobs/").content.decode()
    assert [int(i) for i in re.findall(r'id="run-(\d+)"', first)] == newest_first[:50]
    older = re.search(r'href="\?before=(\d+)"', first)
    assert older and "after=" not in first

    second = web.get(f"/jobs/?before={older.group(1)}", headers=HTMX)
    html = second.content.decode()
    # An HTMX page turn gets only the results partial.
    assert html.lstrip().startswith('<section id="results"')
    assert [int(i) for i in re.findall(r'id="run-(\d+)"', html)] == newest_first[50:100]
    newer = re.search(r'href="\?after=(\d+)"', html)
    assert newer
    back = web.get(f"/jobs/?after={newer.group(1)}").content.decode()
    assert [int(i) for i in re.findall(r'id="run-(\d+)"', back)] == newest_first[:50]

    last = re.search(r'href="\?before=(\d+)"', html)
    tail = web.get(f"/jobs/?before={last.group(1)}").content.decode()
    assert [int(i) for i in re.findall(r'id="run-(\d+)"', tail)] == newest_first[100:]
    assert "before=" not in tail.split('id="results"')[1].split("</section>")[0]


def test_history_keeps_filters_in_its_page_links(web):
    for _ in range(60):
        finished(status=JobStatus.FAILED)
    html = web.get("/jobs/?status=failed").content.decode()
    assert re.search(r'href="\?status=failed&amp;before=\d+"', html)


# The DST switch in Paris, a half-hour zone; with and without microseconds.
@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_history_rows_show_what_the_url_tag_and_date_filters_would(web, settings, zone):
    # Rows are formatted by the presenter, not in the template (see JobView): same output.
    settings.TIME_ZONE = zone
    switch = datetime(2025, 3, 30, 0, 59, 59, 999999, tzinfo=UTC)
    jobs = [
        JobRunFactory(
            status=JobStatus.SUCCESS,
            started_at=switch + timedelta(seconds=offset),
            finished_at=switch + timedelta(seconds=offset + 3),
        )
        for offset in (0, 0.000001, 3600)
    ]
    never = JobRunFactory(status=JobStatus.CANCELLED, finished_at=switch)
    html = web.get("/jobs/").content.decode()
    shown = Template(
        "<a href=\"{% url 'jobs:detail' pk %}\">#{{ pk }} |"
        """<time datetime="{{ at|date:'c' }}">{{ at|date:"Y-m-d H:i:s" }}</time>"""
    )
    for job in jobs:
        row = run_row(html, job)
        link, time = shown.render(Context({"pk": job.pk, "at": job.started_at})).split("|")
        assert link in row and time in row
    assert '<span class="muted">never</span>' in run_row(html, never)


def test_row_links_follow_the_script_prefix_of_the_request(web):
    job = finished()
    busy = running()
    assert f'<a href="/jobs/{job.pk}/">' in run_row(web.get("/").content.decode(), job)
    # What the WSGI handler does for an app mounted under /music (the test client does not).
    set_script_prefix("/music/")
    try:
        html = web.get("/").content.decode()
    finally:
        set_script_prefix("/")
    assert f'<a href="/music/jobs/{job.pk}/">' in run_row(html, job)
    assert f'hx-post="/music/jobs/{busy.pk}/cancel"' in html
    assert f'<a href="/music/jobs/{busy.pk}/">#{busy.pk} ' in html
    assert reverse("jobs:cancel", args=[busy.pk]) == f"/jobs/{busy.pk}/cancel"


def test_history_shows_metrics_per_type(web):
    for seconds in [1, 2, 3, 4, 100]:
        finished(seconds=seconds)
    finished(status=JobStatus.FAILED, seconds=5)
    long_ago = timezone.now() - timedelta(days=40)
    finished(seconds=7, finished_at=long_ago, queued_at=long_ago)  # too old
    page = web.get("/jobs/").content.decode()
    assert 'hx-get="/jobs/metrics" hx-trigger="load"' in page  # loaded after the page
    metrics = web.get("/jobs/metrics", headers=HTMX).content.decode()
    assert "of the last 30 days" in metrics
    row = re.search(r"<tr>\s*<td data-label=\"Type\">Test steps</td>(.*?)</tr>", metrics, re.S)
    assert row
    cells = re.findall(r'class="num">([^<]*)</td>', row.group(1))
    # runs, failures, cancelled, average, p95 (nearest rank: the 6th of 6 durations)
    assert cells == ["6", "1", "0", "19s", "1m 40s"]
    chosen = web.get(f"/jobs/metrics?since={timezone.localdate() - timedelta(days=50)}")
    assert "in the chosen dates" in chosen.content.decode()
    assert re.search(r'class="num">7</td>', chosen.content.decode())


def _metric_cells(html: str, label: str) -> list[str]:
    row = re.search(rf'<tr>\s*<td data-label="Type">{label}</td>(.*?)</tr>', html, re.S)
    assert row, html
    return re.findall(r'class="num">([^<]*)</td>', row.group(1))


def test_history_metrics_honour_the_filter_and_name_windows_of_playlists_only(web):
    finished(seconds=3)
    finished(status=JobStatus.FAILED, seconds=5, trigger=Trigger.CLI)
    plain = web.get("/jobs/metrics").content.decode()
    assert _metric_cells(plain, "Test steps") == ["2", "1", "0", "4s", "5s"]
    assert '<th scope="col">Window</th>' not in plain  # no playlist runs: no window column
    failed = web.get("/jobs/metrics?status=failed").content.decode()
    assert _metric_cells(failed, "Test steps") == ["1", "1", "0", "5s", "5s"]
    assert "that match the filters" in failed
    web_only = web.get("/jobs/metrics?trigger=web").content.decode()
    assert _metric_cells(web_only, "Test steps") == ["1", "0", "0", "3s", "3s"]
    finished(job_type="playlist", window="morning", params={"window": "morning"})
    mixed = web.get("/jobs/metrics").content.decode()
    assert '<th scope="col">Window</th>' in mixed
    assert '<td data-label="Window">Morning</td>' in mixed
    steps_row = mixed[mixed.index(">Test steps</td>") :]
    assert '<td data-label="Window"><span class="muted">—</span></td>' in steps_row


# -- detail ----------------------------------------------------------------------------------
