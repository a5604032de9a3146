"""The HTML screens and their partials, login, static files and the admin (test client)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from jobs import live, selectors
from jobs.models import JobRun, JobStatus, Trigger
from jobs.views import pages
from playlister.windows import Window
from tests.factories import JobRunFactory, finished, run_row, running

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize("path", ["/", "/jobs/", "/jobs/1/", "/partials/live", "/jobs/1/live"])
def test_pages_send_anonymous_visitors_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_polled_partial_sends_the_whole_page_to_login_when_the_session_ends(client):
    response = client.get(
        "/partials/live", headers={**HTMX, "HX-Current-URL": "http://testserver/"}
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/login/?next=%2F"


def test_log_in_through_the_login_page_and_out_again(client, user):
    page = client.get("/login/?next=/jobs/")
    assert page.status_code == 200
    assert b'name="username"' in page.content
    response = client.post(
        "/login/", {"username": "alice", "password": "s3cret-pass", "next": "/jobs/"}
    )
    assert response.status_code == 302 and response["Location"] == "/jobs/"
    assert client.get("/").status_code == 200
    assert client.post("/logout/")["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_a_wrong_password_stays_on_the_login_page(client, user):
    response = client.post("/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


# -- static files ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/static/vendor/htmx-2.0.11.min.js", "javascript"), ("/static/css/app.css", "text/css")],
)
def test_htmx_and_the_stylesheet_are_served_by_the_app_without_login(client, path, content_type):
    response = client.get(path)
    assert response.status_code == 200
    assert content_type in response["Content-Type"]
    assert b"".join(response.streaming_content)


def test_static_files_are_revalidated_unless_their_name_carries_their_version(client):
    css = client.get("/static/css/app.css")
    assert css["Cache-Control"] == "max-age=0, public"
    assert client.get("/static/css/app.css", HTTP_IF_NONE_MATCH=css["ETag"]).status_code == 304
    htmx = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert htmx["Cache-Control"].endswith("public, immutable")
    assert client.get("/static/admin/css/base.css").status_code == 200  # the admin's own
    assert client.get("/static/css/missing.css").status_code == 404


def test_pages_load_htmx_and_the_stylesheet_from_the_app_not_a_cdn(web):
    html = web.get("/").content.decode()
    assert '<script src="/static/vendor/htmx-2.0.11.min.js" defer>' in html
    assert '<link rel="stylesheet" href="/static/css/app.css">' in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert 'name="viewport"' in html


# -- dashboard -------------------------------------------------------------------------------
def test_dashboard_shows_stats_active_jobs_forms_and_history(web):
    job = running(progress_current=3, progress_total=10, progress_message="Step 3 of 10")
    live.publish_progress(
        job.pk,
        live.LiveProgress(
            current=6,
            total=10,
            message="Step 6 of 10",
            eta_seconds=65,
            source_counts={"plex": 4, "lastfm": 2},
            updated_at=0.0,
        ),
    )
    queued = JobRunFactory()
    done = finished(status=JobStatus.FAILED, error="ValueError: boom")
    html = web.get("/").content.decode()
    live.clear(job.pk)

    assert '<span class="n" data-stat="pending">1</span>' in html
    assert '<span class="n" data-stat="active">1</span>' in html
    card = html[html.index(f'id="job-{job.pk}"') :]
    card = card[: card.index("</article>")]
    assert '<progress value="6" max="10"' in card
    assert "6/10" in card and "60 %" in card and "ETA 1m 05s" in card
    assert "Step 6 of 10" in card
    assert "<span>lastfm</span> 2" in card and "<span>plex</span> 4" in card
    assert f'hx-post="/jobs/{job.pk}/cancel"' in card
    assert f'id="job-{queued.pk}"' in html
    assert 'hx-post="/history/cancel-running"' in html
    row = html[html.index(f'id="run-{done.pk}"') :]
    row = row[: row.index("</tr>")]
    # An old row's error, told as a sentence: no class name (issue 16).
    assert ">Boom</td>" in row and "ValueError" not in row
    # A start form per job type, rendered from its params form.
    form = html[html.index('id="start-test-steps"') :]
    assert 'hx-post="/actions/test-steps/start"' in form
    assert 'name="steps"' in form and 'value="10"' in form
    assert 'id="id_test-steps_steps"' in form
    # Polls while something is active.
    assert 'hx-trigger="every 1s, jobs-changed from:body"' in html


def test_live_partial_polls_while_jobs_are_active(web):
    running()
    response = web.get("/partials/live", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="live"')
    assert 'hx-trigger="every 1s, jobs-changed from:body"' in html
    assert "<html" not in html


def test_live_partial_stops_polling_when_nothing_is_queued_or_running(web):
    finished()
    response = web.get("/partials/live", headers=HTMX)
    assert response.status_code == 286  # HttpResponseStopPolling
    html = response.content.decode()
    # The final content still replaces the region, now listening only for jobs-changed.
    assert 'hx-trigger="jobs-changed from:body"' in html
    assert "every 1s" not in html
    assert "Nothing is queued or running." in html


def test_a_direct_cli_run_is_shown_but_not_counted_in_the_queue(web):
    job = running(direct=True, trigger=Trigger.CLI)
    html = web.get("/").content.decode()
    assert f'id="job-{job.pk}"' in html
    assert '<span class="n" data-stat="active">0</span>' in html


@pytest.mark.parametrize("listed", [50, 3], ids=["all listed", "more than listed"])
def test_queue_stats_on_the_dashboard_match_the_queue(web, monkeypatch, listed):
    # Counted from the active list when it holds every active job, else by a query.
    monkeypatch.setattr(pages, "ACTIVE_LIMIT", listed)
    for _ in range(3):
        JobRunFactory()
    running()
    running(direct=True, trigger=Trigger.CLI)
    finished()
    html = web.get("/partials/live", headers=HTMX).content.decode()
    assert selectors.queue_stats() == {"pending": 3, "size": 4, "active": 1, "concurrency": 2}
    assert '<span class="n" data-stat="pending">3</span>' in html
    assert '<span class="n" data-stat="active">1</span>' in html
    assert ("More queued jobs" in html) == (listed < 5)


def test_the_live_store_is_read_once_per_page_however_many_jobs_run(web, monkeypatch):
    with_state, without = running(), running()
    live.publish_progress(
        with_state.pk,
        live.LiveProgress(
            current=7, total=9, message="", eta_seconds=None, source_counts={}, updated_at=0.0
        ),
    )
    reads: list[list[int]] = []
    many = live.read_progress_many
    monkeypatch.setattr(live, "read_progress_many", lambda ids: reads.append(ids) or many(ids))
    monkeypatch.setattr(live, "read_progress", lambda job_id: pytest.fail("read one by one"))
    html = web.get("/jobs/").content.decode()
    live.clear(with_state.pk)
    assert [sorted(ids) for ids in reads] == [sorted([with_state.pk, without.pk])]
    assert f'id="run-{without.pk}"' in html


def _card(html: str, job: JobRun) -> str:
    card = html[html.index(f'id="job-{job.pk}"') :]
    return card[: card.index("</article>")]


def test_only_a_running_job_has_a_bar_and_its_current_item_is_labelled(web):
    counted = running(progress_current=2, progress_total=8, progress_message="Orky")
    unknown = running(progress_total=None, progress_message="Reading Plex")
    queued = JobRunFactory()
    waiting = JobRunFactory(
        attempt=1,
        run_after=timezone.now() + timedelta(minutes=5),
        error="Attempt 1 of 3 failed: TransientError: HTTP 503",
    )
    html = web.get("/").content.decode()
    assert '<progress value="2" max="8"' in _card(html, counted)
    assert '<p class="message"><span class="label">Now:</span> Orky</p>' in _card(html, counted)
    # A total not known yet: the only bar that moves by itself.
    assert '<progress aria-label="Progress of job' in _card(html, unknown)
    assert "<progress" not in _card(html, queued)
    assert "<progress" not in _card(html, waiting)
    assert "next attempt at" in _card(html, waiting) and "next attempt at" not in _card(
        html, queued
    )
    assert "Attempt 1 of 3 failed: HTTP 503" in _card(html, waiting)


@pytest.mark.parametrize("listed", [50, 1], ids=["all listed", "more than listed"])
def test_runs_from_a_terminal_or_cron_are_counted_beside_the_queue(web, monkeypatch, listed):
    monkeypatch.setattr(pages, "ACTIVE_LIMIT", listed)
    cli = running(direct=True, trigger=Trigger.CLI)
    running(direct=True, trigger=Trigger.CLI)
    running(direct=True, trigger=Trigger.SCHEDULE)
    running()
    html = web.get("/partials/live", headers=HTMX).content.decode()
    assert "Also 2 running from the CLI, 1 from cron, outside the queue." in html
    assert '<span class="n" data-stat="active">1</span>' in html
    if listed > 1:
        assert '<span class="muted trigger">from the CLI</span>' in _card(html, cli)


def test_recent_runs_on_the_dashboard_say_how_they_ended(web):
    done = finished(job_type="test-steps", result={"steps": 3})
    failed = finished(status=JobStatus.FAILED, error="ValueError: step 2 failed")
    cancelled = finished(status=JobStatus.CANCELLED, error="")
    html = web.get("/").content.decode()
    assert '<td data-label="Outcome" class="outcome">Steps: 3</td>' in run_row(html, done)
    assert ">Step 2 failed</td>" in run_row(html, failed)
    assert ">Cancelled.</td>" in run_row(html, cancelled)


def test_the_start_forms_come_under_headings_playlists_first(web):
    html = web.get("/").content.decode()
    start = html[html.index('id="start-heading"') :]
    headings = re.findall(r"<h3>([^<]+)</h3>", start)
    assert headings == ["Playlists", "Library data", "Other jobs"]
    ids = re.findall(r'<form class="card start-form" id="start-([\w-]+)"', start)
    assert ids[:6] == [
        "playlist",
        "custom-playlists",
        "cache-warm",
        "cache-albums",
        "cache-refresh",
        "audiomuse-sync",
    ]
    window = start[start.index('name="window"') :]
    window = window[: window.index("</select>")]
    assert '<option value="morning">Morning</option>' in window
    assert '<option value="all">All windows</option>' in window


def test_all_windows_start_one_job_each_and_the_form_keeps_its_choice(web):
    response = web.post(
        "/actions/playlist/start", {"window": "all", "dry_run": ["false", "on"]}, headers=HTMX
    )
    assert response.status_code == 202
    html = response.content.decode()
    jobs = JobRun.objects.filter(job_type="playlist").order_by("id")
    assert [j.window for j in jobs] == list(Window)
    assert all(j.params["dry_run"] for j in jobs)
    assert html.count('href="/jobs/') == 5
    assert '<option value="all" selected>All windows</option>' in html
    assert re.search(r'<input type="checkbox" name="dry_run"[^>]*checked', html)
    assert 'data-dismiss="10"' in html  # the note goes by itself
    # The JSON API says so too; a second start finds them all active.
    again = web.post("/actions/playlist/start", {"window": "all"}, content_type="application/json")
    assert again.status_code == 200
    body = again.json()
    assert [j["jobId"] for j in body["jobs"]] == [j.pk for j in jobs]
    assert all(j["deduplicated"] for j in body["jobs"])


def test_a_route_that_starts_one_job_refuses_all_windows():
    from jobs import services
    from jobs.registry import JobParamsError

    with pytest.raises(JobParamsError, match="stand for 5 jobs"):
        services.enqueue(job_type="playlist", params={"window": "all"})
    assert not JobRun.objects.exists()


# -- history ---------------------------------------------------------------------------------
def test_detail_shows_params_timeline_result_and_error(web):
    job = finished(
        status=JobStatus.FAILED,
        params={"steps": 5, "step_ms": 10, "fail_at": None, "marker": ""},
        error="ValueError: step 3 failed",
        worker="host:123",
    )
    html = web.get(f"/jobs/{job.pk}/").content.decode()
    assert f"Job #{job.pk}" in html
    # Parameters as a person says them: the form's labels, "—" for nothing.
    assert "<dt>Steps</dt><dd>5</dd>" in html
    assert "<dt>Step ms</dt><dd>10</dd>" in html
    assert "<dt>Fail at</dt><dd>—</dd>" in html and "<dt>Marker</dt><dd>—</dd>" in html
    assert "null" not in html
    assert ">Step 3 failed</p>" in html and "ValueError" not in html
    assert "<dt>Attempts</dt><dd>1 of 1</dd>" in html
    assert "host:123" in html
    assert "Not before" not in html  # only a job waiting for its next attempt has one
    assert 'data-polling="false"' in html
    live = html.split('id="job-live"')[1]
    assert f'hx-post="/jobs/{job.pk}/cancel"' not in live  # nothing to cancel
    assert f'hx-post="/jobs/{job.pk}/retry"' in live  # but it can run again (issue 15)


def test_detail_of_an_active_job_polls_and_offers_cancel(web):
    job = running(progress_current=2, progress_total=8)
    html = web.get(f"/jobs/{job.pk}/").content.decode()
    assert f'hx-get="/jobs/{job.pk}/live"' in html
    assert 'hx-trigger="every 1s, jobs-changed from:body"' in html
    assert f'hx-post="/jobs/{job.pk}/cancel"' in html
    assert '<progress value="2" max="8"' in html
    partial = web.get(f"/jobs/{job.pk}/live", headers=HTMX)
    assert partial.status_code == 200
    JobRun.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED, finished_at=timezone.now())
    ended = web.get(f"/jobs/{job.pk}/live", headers=HTMX)
    assert ended.status_code == 286
    assert 'data-status="cancelled"' in ended.content.decode()


def test_detail_of_an_unknown_job_is_404(web):
    response = web.get("/jobs/999999/")
    assert response.status_code == 404
    assert b"There is nothing at <code>/jobs/999999/</code>" in response.content
    assert web.get("/jobs/999999/live").status_code == 404


def test_the_live_partials_cost_the_same_few_queries_on_a_small_table(
    web, django_assert_num_queries
):
    # Same counts as tests/jobs/test_views_scale.py asserts with 100,000 rows.
    running()
    finished()
    with django_assert_num_queries(3):
        web.get("/partials/live", headers=HTMX)
    with django_assert_num_queries(2):
        web.get("/jobs/?status=success", headers=HTMX)


def test_a_session_is_read_from_the_cache_and_survives_losing_it(web, django_assert_num_queries):
    with django_assert_num_queries(2):  # the user and the page; no session query
        assert web.get("/jobs/", headers=HTMX).status_code == 200
    caches[settings.SESSION_CACHE_ALIAS].clear()
    with django_assert_num_queries(3):  # the session from the database again
        assert web.get("/jobs/", headers=HTMX).status_code == 200
    with django_assert_num_queries(2):  # and back in the cache
        assert web.get("/jobs/", headers=HTMX).status_code == 200


# -- admin -----------------------------------------------------------------------------------
@pytest.fixture
def staff(django_user_model) -> Client:
    boss = django_user_model.objects.create_superuser(username="boss", password="pw-boss-123")
    client = Client()
    client.force_login(boss)
    return client


def test_admin_lists_job_runs_with_filters_read_only(staff):
    job = finished(status=JobStatus.FAILED, error="boom")
    page = staff.get("/admin/jobs/jobrun/?status__exact=failed")
    assert page.status_code == 200
    html = page.content.decode()
    assert "boom" in html
    assert "Cancel selected jobs" in html
    assert staff.get("/admin/jobs/jobrun/add/").status_code == 403
    detail = staff.get(f"/admin/jobs/jobrun/{job.pk}/change/").content.decode()
    assert 'name="_save"' not in detail  # view only


def test_admin_cancel_action_cancels_active_jobs_only(staff):
    queued, active, done = JobRunFactory(), running(), finished()
    response = staff.post(
        "/admin/jobs/jobrun/",
        {"action": "cancel_selected", "_selected_action": [queued.pk, active.pk, done.pk]},
        follow=True,
    )
    assert b"Cancelled or asked to stop 2 job(s)." in response.content
    queued.refresh_from_db()
    active.refresh_from_db()
    assert queued.status == JobStatus.CANCELLED
    assert active.cancel_requested_at is not None
    assert JobRun.objects.get(pk=done.pk).status == JobStatus.SUCCESS


def test_every_model_of_the_project_is_in_the_admin():
    ours = [
        model
        for label in ("jobs", "enrichment", "playlister")
        if apps.is_installed(label)
        for model in apps.get_app_config(label).get_models()
    ]
    assert JobRun in ours
    # A model may also be edited as an inline of its parent's admin.
    inlines = {
        inline.model
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }
    missing = [m.__name__ for m in ours if not admin.site.is_registered(m) and m not in inlines]
    assert missing == []
