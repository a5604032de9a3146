"""Retry and run again (issue 15): one run from its page, the API or the CLI; many from a
history filter. A retry is a new queued run with the same type and params, linked to the
run it repeats."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jobs import registry, services
from jobs.models import ACTIVE_STATUSES, FINISHED_STATUSES, JobRun, JobStatus, Trigger
from jobs.queries import HistoryFilters
from tests.cluster import manage, wait_for
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def ended(status=JobStatus.FAILED, **kwargs):
    end = kwargs.pop("finished_at", timezone.now())
    return JobRunFactory(
        status=status,
        started_at=end - timedelta(seconds=2),
        finished_at=end,
        attempt=1,
        error="ValueError: boom" if status == JobStatus.FAILED else "",
        **kwargs,
    )


@pytest.fixture
def api(django_user_model) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user(username="alice"))
    client.get("/")  # the csrftoken cookie
    return client


def post(client: Client, path: str, data=None, *, htmx: bool = False, form: bool = False):
    headers = {"X-CSRFToken": client.cookies["csrftoken"].value, **(HTMX if htmx else {})}
    if form:
        return client.post(path, data or {}, headers=headers)
    return client.post(
        path,
        data=json.dumps(data) if data is not None else "",
        content_type="application/json",
        headers=headers,
    )


# -- the service ---------------------------------------------------------------------------
@pytest.mark.parametrize("status", FINISHED_STATUSES)
def test_a_finished_run_is_repeated_with_its_type_and_params(status):
    original = ended(status, params={"steps": 4, "step_ms": 0}, trigger=Trigger.SCHEDULE)
    again = services.retry_job(job_id=original.pk, trigger=Trigger.CLI)
    assert again.pk != original.pk and not again.deduplicated
    again.refresh_from_db()
    assert (again.job_type, again.status, again.trigger) == (
        original.job_type,
        JobStatus.QUEUED,
        Trigger.CLI,
    )
    assert again.params == {**original.params, "fail_at": None, "marker": "", "source": ""}
    assert again.retry_of_id == original.pk
    original.refresh_from_db()
    assert original.status == status  # the original is history: it does not change


@pytest.mark.parametrize("status", ACTIVE_STATUSES)
def test_an_active_run_cannot_be_retried(status):
    active = JobRunFactory(status=status)
    with pytest.raises(services.JobStillActive, match=f"still {status}"):
        services.retry_job(job_id=active.pk)
    assert JobRun.objects.count() == 1


def test_a_retry_is_deduplicated_like_an_enqueue():
    old = ended(job_type="test-unique", params={"steps": 1})
    holder = services.enqueue(job_type="test-unique", params={"steps": 5})
    again = services.retry_job(job_id=old.pk)
    assert (again.pk, again.deduplicated) == (holder.pk, True)
    assert JobRun.objects.count() == 2


def test_a_run_whose_type_is_gone_or_whose_params_went_bad_is_refused():
    gone = ended(job_type="no-longer-registered")
    with pytest.raises(registry.UnknownJobType):
        services.retry_job(job_id=gone.pk)
    bad = ended(params={"steps": "many"})
    with pytest.raises(registry.JobParamsError, match="steps"):
        services.retry_job(job_id=bad.pk)
    assert JobRun.objects.count() == 2


# -- the API -------------------------------------------------------------------------------
def test_post_retry_answers_202_with_the_new_job(api):
    original = ended()
    response = post(api, f"/jobs/{original.pk}/retry")
    assert response.status_code == 202
    body = response.json()
    new = JobRun.objects.get(pk=body["jobId"])
    assert body == {
        "jobId": new.pk,
        "status": "queued",
        "retryOf": original.pk,
        "deduplicated": False,
    }
    assert (new.trigger, new.retry_of_id) == (Trigger.WEB, original.pk)
    assert response["Location"] == f"/jobs/{new.pk}.json"
    assert api.get(f"/jobs/{new.pk}.json").json()["retryOf"] == original.pk


def test_post_retry_refuses_unknown_active_and_no_longer_valid_runs(api):
    assert post(api, "/jobs/999999/retry").status_code == 404
    assert post(api, "/jobs/999999/retry").json() == {"error": "no job with id 999999"}
    running = JobRunFactory(status=JobStatus.RUNNING, attempt=1, started_at=timezone.now())
    refused = post(api, f"/jobs/{running.pk}/retry")
    assert refused.status_code == 409
    assert "still running" in refused.json()["error"]
    gone = ended(job_type="no-longer-registered")
    assert post(api, f"/jobs/{gone.pk}/retry").status_code == 400
    assert JobRun.objects.count() == 2  # nothing recorded


def test_post_retry_of_a_deduplicated_type_answers_200_with_the_active_job(api):
    old = ended(job_type="test-unique", params={"steps": 1})
    holder = services.enqueue(job_type="test-unique", params={"steps": 5})
    response = post(api, f"/jobs/{old.pk}/retry")
    assert response.status_code == 200
    assert response.json()["jobId"] == holder.pk
    assert response.json()["deduplicated"] is True


def test_retry_needs_a_login_and_a_csrf_token(client, api):
    original = ended()
    assert client.post(f"/jobs/{original.pk}/retry").status_code == 401
    assert api.post(f"/jobs/{original.pk}/retry").status_code == 403  # no token
    assert api.get(f"/jobs/{original.pk}/retry").status_code == 405
    assert JobRun.objects.count() == 1


# -- the pages -----------------------------------------------------------------------------
def test_the_detail_page_retries_and_links_both_runs(api):
    original = ended()
    page = api.get(f"/jobs/{original.pk}/").content.decode()
    assert f'hx-post="/jobs/{original.pk}/retry"' in page and ">Retry</button>" in page
    note = post(api, f"/jobs/{original.pk}/retry", htmx=True)
    assert note.status_code == 202
    assert "jobs-changed" in note["HX-Trigger"]
    new = JobRun.objects.exclude(pk=original.pk).get()
    assert f'href="/jobs/{new.pk}/"' in note.content.decode()
    assert "Queued" in note.content.decode()
    live = api.get(f"/jobs/{original.pk}/live", headers=HTMX).content.decode()
    assert re.search(rf'Retried as</dt><dd class="retried-as"><a href="/jobs/{new.pk}/">', live)
    page = api.get(f"/jobs/{new.pk}/").content.decode()
    assert f'<a href="/jobs/{original.pk}/">#{original.pk}</a>' in page  # "Retry of #12"
    assert "Retry of" in page
    assert f'hx-post="/jobs/{new.pk}/retry"' not in page  # it is queued: no button


def test_a_successful_run_offers_run_again_and_an_htmx_refusal_says_why(api):
    done = ended(JobStatus.SUCCESS)
    assert ">Run again</button>" in api.get(f"/jobs/{done.pk}/").content.decode()
    queued = JobRunFactory()
    refusal = post(api, f"/jobs/{queued.pk}/retry", htmx=True)
    assert refusal.status_code == 409
    assert 'role="alert"' in refusal.content.decode()
    assert "still queued" in refusal.content.decode()


def test_history_rows_have_a_retry_button_for_finished_runs_only(api):
    failed, cancelled, done = (
        ended(JobStatus.FAILED),
        ended(JobStatus.CANCELLED),
        ended(JobStatus.SUCCESS),
    )
    queued = JobRunFactory()
    running = JobRunFactory(status=JobStatus.RUNNING, attempt=1, started_at=timezone.now())
    page = api.get("/jobs/").content.decode()
    for job in (failed, cancelled, done):
        assert f'hx-post="/jobs/{job.pk}/retry"' in page
    for job in (queued, running):
        assert f'hx-post="/jobs/{job.pk}/retry"' not in page


# -- bulk ----------------------------------------------------------------------------------
def test_bulk_retry_failed_retries_the_filtered_failed_runs_once(api):
    mine = [ended(trigger=Trigger.SCHEDULE) for _ in range(3)]
    ended(trigger=Trigger.WEB)  # another trigger
    ended(JobStatus.SUCCESS, trigger=Trigger.SCHEDULE)  # not failed
    confirm = api.get("/jobs/bulk/retry-failed/confirm?trigger=schedule", headers=HTMX)
    text = confirm.content.decode()
    assert confirm.status_code == 200
    assert 'data-count="3"' in text and "Trigger: Schedule" in text
    assert '<input type="hidden" name="trigger" value="schedule">' in text

    done = post(api, "/jobs/bulk/retry-failed", {"trigger": "schedule"}, htmx=True, form=True)
    assert done.status_code == 200 and "Queued 3 retries" in done.content.decode()
    assert "jobs-changed" in done["HX-Trigger"]
    retries = JobRun.objects.filter(retry_of__isnull=False)
    assert sorted(r.retry_of_id for r in retries) == sorted(j.pk for j in mine)
    assert {r.status for r in retries} == {JobStatus.QUEUED}

    # Pressing it again finds nothing left to retry.
    assert post(api, "/jobs/bulk/retry-failed", {"trigger": "schedule"}).json() == {
        "queued": 0,
        "deduplicated": 0,
        "skipped": 0,
        "limited": False,
    }
    again = api.get("/jobs/bulk/retry-failed/confirm?trigger=schedule", headers=HTMX)
    assert "No failed runs not retried yet match" in again.content.decode()


def test_bulk_retry_counts_dedupes_and_skips_and_stops_at_its_limit():
    for _ in range(3):
        ended(job_type="test-unique", params={"steps": 1})
    ended(job_type="no-longer-registered")
    result = services.bulk_retry_failed(filters=HistoryFilters())
    assert (result.queued, result.deduplicated, result.skipped) == (1, 2, 1)
    JobRun.objects.filter(retry_of__isnull=False).delete()
    for _ in range(4):
        ended()
    limited = services.bulk_retry_failed(filters=HistoryFilters(job_type="test-steps"), limit=3)
    assert (limited.queued, limited.limited) == (3, True)
    newest = list(JobRun.objects.filter(job_type="test-steps", status="failed").order_by("-id"))
    retried = set(JobRun.objects.filter(retry_of__isnull=False).values_list("retry_of", flat=True))
    assert retried == {j.pk for j in newest[:3]}  # the newest first


def test_bulk_cancel_queued_cancels_what_the_filter_selects(api):
    mine = [JobRunFactory(job_type="test-unique", params={"steps": 1}) for _ in range(2)]
    other = JobRunFactory()
    running = JobRunFactory(
        job_type="test-unique", status=JobStatus.RUNNING, attempt=1, started_at=timezone.now()
    )
    confirm = api.get("/jobs/bulk/cancel-queued/confirm?type=test-unique", headers=HTMX)
    assert 'data-count="2"' in confirm.content.decode()
    response = post(api, "/jobs/bulk/cancel-queued", {"type": "test-unique"})
    assert response.json() == {"cancelled": 2, "limited": False}
    statuses = dict(JobRun.objects.values_list("id", "status"))
    assert [statuses[j.pk] for j in mine] == [JobStatus.CANCELLED] * 2
    assert (statuses[other.pk], statuses[running.pk]) == (JobStatus.QUEUED, JobStatus.RUNNING)
    assert JobRun.objects.get(pk=mine[0].pk).error == "Cancelled before it started"


def test_bulk_cancel_stops_at_its_limit():
    for _ in range(5):
        JobRunFactory()
    result = services.bulk_cancel_queued(filters=HistoryFilters(), limit=3)
    assert (result.cancelled, result.limited) == (3, True)
    assert JobRun.objects.filter(status=JobStatus.QUEUED).count() == 2


def test_a_bulk_action_with_a_bad_filter_does_nothing(api):
    ended()
    JobRunFactory()
    for action in ("retry-failed", "cancel-queued"):
        response = post(api, f"/jobs/bulk/{action}", {"since": "yesterday-ish"})
        assert response.status_code == 400
        assert "since" in response.json()["fields"]
        confirm = api.get(f"/jobs/bulk/{action}/confirm?status=nope", headers=HTMX)
        assert confirm.status_code == 400
    assert post(api, "/jobs/bulk/delete-everything", {}).status_code == 404
    assert JobRun.objects.count() == 2
    assert JobRun.objects.filter(status=JobStatus.QUEUED).count() == 1


def test_the_history_page_offers_the_bulk_actions_for_its_filter(api):
    page = api.get("/jobs/?type=test-steps&status=failed").content.decode()
    assert 'hx-get="/jobs/bulk/retry-failed/confirm?type=test-steps&amp;status=failed"' in page
    assert "/jobs/bulk/cancel-queued/confirm?type=test-steps" in page
    assert "at most 1,000 per click" in page


# -- the CLI -------------------------------------------------------------------------------
def run(*args: str) -> tuple[int, str, str]:
    proc = manage(*args)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.django_db(transaction=True)
def test_jobs_retry_prints_the_new_id_and_refuses_bad_ids_in_one_line():
    original = ended()
    code, out, err = run("jobs", "retry", str(original.pk))
    assert code == 0, err
    new = JobRun.objects.get(pk=int(out.strip()))
    # (A cluster left running by other tests may already have run it.)
    assert (new.retry_of_id, new.trigger) == (original.pk, Trigger.CLI)
    code, out, _ = run("jobs", "show", str(new.pk))
    assert f"#{original.pk}" in out
    active = JobRunFactory(
        status=JobStatus.RUNNING, attempt=1, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    for bad, fragment in [
        ("abc", "'abc' is not a whole number"),
        ("0", "must be from 1 to"),
        ("999999", "no job with id 999999"),
        (str(active.pk), f"job {active.pk} is still running"),
    ]:
        code, _out, err = run("jobs", "retry", bad)
        assert code == 2, bad
        assert fragment in err
        assert len(err.strip().splitlines()) == 1, err
    assert JobRun.objects.count() == 3


# -- through the cluster -------------------------------------------------------------------
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("drained")
def test_a_retried_run_runs_on_the_cluster(api):
    failed = ended(params={"steps": 3, "step_ms": 0})
    new_id = post(api, f"/jobs/{failed.pk}/retry").json()["jobId"]
    wait_for(
        lambda: JobRun.objects.get(pk=new_id).status == JobStatus.SUCCESS,
        timeout=20,
        what="the retry to run",
    )
    assert JobRun.objects.get(pk=new_id).result == {"steps": 3}
