"""The Schedules page, the dashboard's next scheduled job, the admin and ``manage.py
schedules``: what a person sees and what bad input gets."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from jobs.models import JobRun, JobStatus, Trigger
from jobs.schedules import services as schedules
from jobs.schedules.models import JobSchedule, Outcome
from tests.cluster import manage

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def web(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user(username="sam", password="pw-123456"))
    return client


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def weekly(berlin) -> JobSchedule:
    return schedules.create(
        name="weekly-steps",
        label="Weekly steps",
        job_type="test-steps",
        cron_expression="0 6 * * 1",
        params={"steps": 3, "step_ms": 0},
    )


def state(name: str = "weekly-steps"):
    row = schedules.get(name)
    return (row.schedule.cron, row.schedule.repeats, row.schedule.next_run, row.last_fire)


def row_html(html: str, name: str = "weekly-steps") -> str:
    match = re.search(rf'<tr id="schedule-{name}".*?</tr>', html, re.S)
    assert match, html
    return match.group(0)


def next_runs(html: str) -> list[str]:
    return re.findall(r'<li><time datetime="[^"]+">([^<]+)</time>', html)


# -- the page -------------------------------------------------------------------------------------
def test_the_page_is_in_the_navigation_and_needs_a_login(client, web, weekly):
    assert client.get("/schedules/").status_code == 302
    html = web.get("/").content.decode()
    assert 'href="/schedules/"' in html
    assert web.get("/schedules/").status_code == 200


def test_each_schedule_shows_its_job_expression_reading_next_and_last_runs(web, weekly):
    html = web.get("/schedules/").content.decode()
    row = row_html(html)
    assert "Weekly steps" in row and "Test steps" in row
    assert "Steps: 3 · Step ms: 0" in row
    assert 'value="0 6 * * 1"' in row
    assert "At 06:00, only on Monday" in row
    runs = next_runs(row)
    assert len(runs) == 3 and all(re.fullmatch(r"Mon \d\d \w{3} 06:00 CES?T", r) for r in runs)
    assert "never" in row  # no last run yet
    assert "Europe/Berlin" in html


def test_editing_the_expression_changes_the_next_runs(web, weekly):
    before = next_runs(web.get("/schedules/").content.decode())
    response = web.post("/schedules/weekly-steps/cron", {"cron": "30 7 * * 2"}, headers=HTMX)
    assert response.status_code == 200
    row = row_html(response.content.decode())
    assert 'value="30 7 * * 2"' in row
    assert "At 07:30, only on Tuesday" in row
    after = next_runs(row)
    assert after != before and all(r.startswith("Tue") and "07:30" in r for r in after)
    assert state()[0] == "30 7 * * 2"


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 25 * * *", "The hour field &#x27;25&#x27; is not valid: use 0-23"),
        ("0 6 * *", "A cron expression has five fields"),
        ("", "Enter a cron expression"),
        ("0 6 31 2 *", "never runs: no month has that day"),
    ],
)
def test_a_bad_expression_is_a_400_that_says_what_is_wrong_and_changes_nothing(
    web, weekly, cron, message
):
    before = state()
    response = web.post("/schedules/weekly-steps/cron", {"cron": cron}, headers=HTMX)
    assert response.status_code == 400
    row = row_html(response.content.decode())
    assert message in row
    assert f'value="{cron}"' in row  # what the person typed stays in the field
    assert state() == before
    # Without HTMX: the page, 400, the same message.
    plain = web.post("/schedules/weekly-steps/cron", {"cron": cron})
    assert plain.status_code == 400
    assert message in plain.content.decode()
    assert state() == before


def test_enable_and_disable_from_the_page(web, weekly):
    response = web.post("/schedules/weekly-steps/disable", headers=HTMX)
    row = row_html(response.content.decode())
    assert 'data-enabled="false"' in row and ">Enable<" in row and "disabled" in row
    assert state()[1] == 0
    response = web.post("/schedules/weekly-steps/enable")
    assert response.status_code == 302 and response["Location"] == "/schedules/"
    assert state()[1] == -1


def test_run_now_starts_the_job_and_the_last_run_links_to_it(web, weekly):
    response = web.post("/schedules/weekly-steps/run", headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "jobs-changed"
    job = JobRun.objects.get()
    assert (job.job_type, job.trigger, job.params["steps"]) == ("test-steps", Trigger.WEB, 3)
    row = row_html(response.content.decode())
    assert f'href="/jobs/{job.pk}/"' in row
    assert "Queued" in row and "run now" in row
    # The last-run cell polls while the job is queued, and stops (286) once it ended.
    assert 'hx-get="/schedules/weekly-steps/last-run"' in row
    assert web.get("/schedules/weekly-steps/last-run", headers=HTMX).status_code == 200
    JobRun.objects.filter(pk=job.pk).update(status=JobStatus.SUCCESS)
    done = web.get("/schedules/weekly-steps/last-run", headers=HTMX)
    assert done.status_code == 286
    assert "hx-get" not in done.content.decode() and "success" in done.content.decode()


def test_unknown_schedules_are_404_and_gets_of_actions_are_405(web, weekly):
    for url in ("/schedules/nope/run", "/schedules/nope/cron", "/schedules/nope/enable"):
        assert web.post(url, {"cron": "0 5 * * *"}).status_code == 404
    assert web.get("/schedules/nope/last-run").status_code == 404
    assert web.get("/schedules/weekly-steps/run").status_code == 405
    assert not JobRun.objects.exists()


def test_a_skip_shows_its_reason_and_the_job_it_waited_for(web, weekly):
    job = schedules.run_now("weekly-steps")
    JobSchedule.objects.filter(name="weekly-steps").update(
        last_outcome=Outcome.SKIPPED, last_reason=f"job {job.pk} still running"
    )
    row = row_html(web.get("/schedules/").content.decode())
    assert "skipped" in row and f"job {job.pk} still running" in row


def test_the_dashboard_shows_the_next_scheduled_job(web, berlin):
    soon = schedules.create(
        name="soon", label="Soon", job_type="test-steps", cron_expression="0 * * * *"
    )
    schedules.create(
        name="later", label="Later", job_type="test-steps", cron_expression="0 6 * * 1"
    )
    schedules.create(name="off", label="Off", job_type="test-steps", cron_expression="* * * * *")
    schedules.set_enabled("off", False)
    html = web.get("/").content.decode()
    line = re.search(r'<p class="next-schedule.*?</p>', html, re.S).group(0)
    assert "Soon" in line and 'href="/schedules/#schedule-soon"' in line
    assert soon.schedule.next_run is not None
    assert re.search(r"\d\d:00 CES?T</time> \(in (\d+ min|under a minute)\)", line), line


# -- admin ----------------------------------------------------------------------------------------
def test_the_admin_lists_and_edits_ours_and_keeps_djangoq2s_copy_read_only(admin_client, weekly):
    assert JobSchedule in admin.site._registry
    listing = admin_client.get(reverse("admin:jobs_jobschedule_changelist")).content.decode()
    assert "weekly-steps" in listing and "At 06:00, only on Monday" in listing
    url = reverse("admin:jobs_jobschedule_change", args=[weekly.pk])
    bad = admin_client.post(
        url, {"label": "W", "params": '{"steps": 3}', "cron": "0 6 * *", "enabled": "on"}
    )
    assert bad.status_code == 200 and "A cron expression has five fields" in bad.content.decode()
    assert state()[0] == "0 6 * * 1"
    good = admin_client.post(url, {"label": "W", "params": '{"steps": 4}', "cron": "0 7 * * 1"})
    assert good.status_code == 302
    row = schedules.get("weekly-steps")
    assert (row.label, row.params, row.schedule.cron, row.schedule.repeats) == (
        "W",
        {"steps": 4},
        "0 7 * * 1",
        0,
    )
    q_url = reverse("admin:django_q_schedule_change", args=[weekly.pk])
    page = admin_client.get(q_url).content.decode()
    assert 'name="cron"' not in page  # read-only there
    listing = admin_client.get(reverse("admin:django_q_schedule_changelist")).content.decode()
    assert url in listing


# -- the command ----------------------------------------------------------------------------------
def test_the_command_lists_edits_enables_runs_and_resets(weekly, capsys, settings):
    call_command("schedules", "list")
    out = capsys.readouterr().out
    assert "Times in Europe/Berlin." in out
    assert re.search(r"weekly-steps\s+yes 0 6 \* \* 1\s+Mon \d\d \w{3} 06:00 CES?T\s+never", out)
    assert "At 06:00, only on Monday" in out
    call_command("schedules", "set", "weekly-steps", "15 6 * * 1-5")
    assert "weekly-steps runs 15 6 * * 1-5: At 06:15, Monday through Friday. Next:" in (
        capsys.readouterr().out
    )
    call_command("schedules", "disable", "weekly-steps")
    assert state()[1] == 0
    assert capsys.readouterr().out.startswith("weekly-steps disabled: At 06:15")
    call_command("schedules", "enable", "weekly-steps")
    assert state()[1] == -1
    assert capsys.readouterr().out.startswith("weekly-steps enabled: At 06:15")
    call_command("schedules", "run", "weekly-steps", "--enqueue")
    job = JobRun.objects.get()
    assert capsys.readouterr().out.strip() == str(job.pk)
    assert job.trigger == Trigger.CLI
    settings.PLAYLISTER_SCHEDULE_DEFAULTS = False
    call_command("schedules", "reset")
    assert "daily-morning: created" in capsys.readouterr().out
    assert schedules.get("weekly-steps").schedule.cron == "15 6 * * 1-5"  # not a default


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["set", "weekly-steps", "0 6 * * 9"], "The day-of-week field '9' is not valid"),
        (["set", "weekly-steps", "every monday"], "has five fields"),
        (["enable", "nope"], "no schedule named 'nope' (known: weekly-steps)"),
        (["run", "nope"], "no schedule named 'nope'"),
    ],
)
def test_bad_names_and_expressions_exit_2_with_one_line_and_change_nothing(weekly, args, fragment):
    before = state()
    proc = manage("schedules", *args)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1, err
    assert state() == before
    assert not JobRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_system_crontab_runs_a_disabled_schedule_and_it_is_recorded(weekly):
    """A schedule left to cron: disabled here, ``schedules run NAME --scheduled`` there."""
    schedules.set_enabled("weekly-steps", False)
    proc = manage("schedules", "run", "weekly-steps", "--scheduled")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "test-steps 3/3" in err  # log lines, no bar
    job = JobRun.objects.get()
    assert (job.trigger, job.direct, job.status) == (Trigger.SCHEDULE, True, JobStatus.SUCCESS)
    row = schedules.get("weekly-steps")
    assert (row.last_outcome, row.last_job_id, row.last_reason) == (
        Outcome.FIRED,
        job.pk,
        "run by cron",
    )
    assert row.last_run_at > timezone.now() - timedelta(minutes=1)
    assert Schedule.objects.get(pk=row.pk).repeats == 0


def test_deleting_one_in_the_admin_deletes_its_djangoq2_row_too(admin_client, weekly):
    url = reverse("admin:jobs_jobschedule_delete", args=[weekly.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Schedule.objects.filter(pk=weekly.pk).exists()
    assert not JobSchedule.objects.exists()
