"""The seed's JSON API: every path, its happy answer and its bad input (no cluster needed:
on_commit never fires inside the ``db`` fixture's transaction, so no ticket is pushed)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from jobs import live, registry, selectors
from jobs.models import JobRun, JobStatus, Trigger
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db

POST_PATHS = [
    "/actions/test-steps/start",
    "/jobs/1/cancel",
    "/history/cancel-running",
]
GET_PATHS = ["/queue/stats", "/jobs/1.json", "/jobs/1/stream"]


def post(client: Client, path: str, data=None, **extra):
    """POST JSON with the CSRF header, as a script or the page's HTMX does."""
    token = client.cookies["csrftoken"].value
    return client.post(
        path,
        data=json.dumps(data) if data is not None else "",
        content_type="application/json",
        headers={"X-CSRFToken": token, **extra.pop("headers", {})},
        **extra,
    )


def running_job(**kwargs):
    now = timezone.now()
    return JobRunFactory(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempt=1, **kwargs
    )


# -- start ---------------------------------------------------------------------------------
def test_start_queues_a_web_job_and_answers_202_with_its_id(api):
    response = post(api, "/actions/test-steps/start", {"steps": 3, "step_ms": 0})
    assert response.status_code == 202
    body = response.json()
    job = JobRun.objects.get(pk=body["jobId"])
    assert body == {"jobId": job.pk, "status": "queued", "deduplicated": False}
    assert response["Location"] == f"/jobs/{job.pk}.json"
    assert (job.job_type, job.trigger, job.status) == ("test-steps", Trigger.WEB, "queued")
    assert job.params["steps"] == 3 and job.params["step_ms"] == 0


def test_start_with_an_empty_body_takes_the_defaults(api):
    response = post(api, "/actions/test-steps/start")
    assert response.status_code == 202
    assert JobRun.objects.get(pk=response.json()["jobId"]).params["steps"] == 10


def test_start_accepts_form_data_like_the_page_sends(api):
    token = api.cookies["csrftoken"].value
    response = api.post(
        "/actions/test-steps/start",
        {"steps": "4", "step_ms": "5", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 202
    assert JobRun.objects.get(pk=response.json()["jobId"]).params["steps"] == 4


def test_start_of_a_unique_job_that_is_active_returns_the_active_one(api):
    spec = registry.get("test-steps")
    unique = registry.JobType(
        name="test-web-unique",
        func=spec.func,
        label="Unique",
        params=spec.params,
        dedupe=lambda params: "test-web-unique",
    )
    registry.register(unique)
    try:
        first = post(api, "/actions/test-web-unique/start", {"steps": 1})
        second = post(api, "/actions/test-web-unique/start", {"steps": 1})
    finally:
        registry.unregister("test-web-unique")
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json() == {
        "jobId": first.json()["jobId"],
        "status": "queued",
        "deduplicated": True,
    }
    assert JobRun.objects.filter(job_type="test-web-unique").count() == 1


def test_start_of_an_unknown_type_is_400_naming_the_known_ones(api):
    response = post(api, "/actions/no-such-job/start", {})
    assert response.status_code == 400
    assert "no-such-job" in response.json()["error"]
    assert "test-steps" in response.json()["error"]
    assert not JobRun.objects.exists()


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ({"steps": -1}, "steps", "greater than or equal to 0"),
        ({"steps": "many"}, "steps", "whole number"),
        ({"step_ms": None}, "step_ms", "required"),
        ({"colour": "red"}, "colour", "unknown parameter"),
    ],
)
def test_bad_params_are_400_naming_the_field(api, params, field, fragment):
    response = post(api, "/actions/test-steps/start", params)
    assert response.status_code == 400
    body = response.json()
    assert field in body["fields"]
    assert fragment in " ".join(body["fields"][field])
    assert field in body["error"]
    assert not JobRun.objects.exists()


@pytest.mark.parametrize(
    ("body", "fragment"),
    [("{not json", "not valid JSON"), ("[1, 2]", "JSON object")],
)
def test_a_body_that_is_not_a_json_object_is_400(api, body, fragment):
    token = api.cookies["csrftoken"].value
    response = api.post(
        "/actions/test-steps/start",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400
    assert fragment in response.json()["error"]


def test_an_unsupported_content_type_is_400(api):
    token = api.cookies["csrftoken"].value
    response = api.post(
        "/actions/test-steps/start",
        data="steps: 3",
        content_type="text/yaml",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400
    assert "content type" in response.json()["error"]


# -- cancel --------------------------------------------------------------------------------
def test_cancel_a_queued_job_is_202_and_ends_it(api):
    job = JobRunFactory()
    response = post(api, f"/jobs/{job.pk}/cancel")
    assert response.status_code == 202
    assert response.json() == {"jobId": job.pk, "status": "cancelled", "cancelRequested": True}
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_cancel_a_running_job_is_202_and_asks_it_to_stop(api):
    job = running_job()
    response = post(api, f"/jobs/{job.pk}/cancel")
    assert response.status_code == 202
    assert response.json() == {"jobId": job.pk, "status": "running", "cancelRequested": True}
    assert live.cancel_requested(job.pk)


def test_cancel_an_unknown_job_is_404(api):
    response = post(api, "/jobs/999999/cancel")
    assert response.status_code == 404
    assert response.json() == {"error": "no job with id 999999"}


def test_cancel_a_finished_job_is_409(api):
    job = JobRunFactory(status=JobStatus.SUCCESS, finished_at=timezone.now())
    response = post(api, f"/jobs/{job.pk}/cancel")
    assert response.status_code == 409
    assert response.json()["status"] == "success"
    assert "already finished" in response.json()["error"]


def test_cancel_running_answers_how_many_it_asked(api):
    a, b = running_job(), running_job()
    JobRunFactory()  # queued: not running, not counted
    response = post(api, "/history/cancel-running")
    assert response.status_code == 200
    assert response.json() == {"cancelled": 2}
    assert live.cancel_requested(a.pk) and live.cancel_requested(b.pk)
    assert post(api, "/history/cancel-running").json() == {"cancelled": 0}


# -- reads ---------------------------------------------------------------------------------
def test_queue_stats_has_the_seed_shape(api, settings):
    JobRunFactory()
    running_job()
    running_job(direct=True, trigger=Trigger.CLI)  # takes no worker slot
    response = api.get("/queue/stats")
    assert response.status_code == 200
    assert response.json() == {
        "pending": 1,
        "size": 2,
        "active": 1,
        "concurrency": settings.PLAYLISTER_JOB_WORKERS,
    }


def test_job_json_has_params_timeline_and_live_progress(api):
    job = running_job(params={"steps": 10, "step_ms": 1})
    live.publish_progress(
        job.pk,
        live.LiveProgress(
            current=4,
            total=10,
            message="Step 4 of 10",
            eta_seconds=1.5,
            source_counts={"plex": 4},
            updated_at=0.0,
        ),
    )
    response = api.get(f"/jobs/{job.pk}.json")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == job.pk
    assert body["jobType"] == "test-steps"
    assert body["params"] == {"steps": 10, "step_ms": 1}
    assert body["status"] == "running"
    assert body["startedAt"] is not None and body["finishedAt"] is None
    assert body["progress"] == {
        "status": "running",
        "current": 4,
        "total": 10,
        "message": "Step 4 of 10",
        "eta": 1500,
        "sourceCounts": {"plex": 4},
    }
    live.clear(job.pk)


def test_job_json_of_an_unknown_job_is_404(api):
    response = api.get("/jobs/424242.json")
    assert response.status_code == 404
    assert response.json() == {"error": "no job with id 424242"}


def test_stream_of_an_unknown_job_is_404(api):
    response = api.get("/jobs/424242/stream")
    assert response.status_code == 404
    assert response.json()["error"] == "no job with id 424242"


# Beyond the ids' 64-bit range: the URL's converter takes it, no row can have it.
HUGE_ID = "9" * 25


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/jobs/{HUGE_ID}.json"),
        ("get", f"/jobs/{HUGE_ID}/stream"),
        ("post", f"/jobs/{HUGE_ID}/cancel"),
        ("post", f"/jobs/{HUGE_ID}/retry"),
    ],
)
def test_an_id_no_row_can_have_is_a_404_not_a_database_error(api, method, path):
    response = post(api, path) if method == "post" else api.get(path)
    assert response.status_code == 404
    assert response.json() == {"error": f"no job with id {HUGE_ID}"}


def test_a_page_of_an_id_no_row_can_have_is_a_404(api):
    assert api.get(f"/jobs/{HUGE_ID}/").status_code == 404
    assert api.get(f"/jobs/{HUGE_ID}/live").status_code == 404


@pytest.mark.parametrize("job_id", ["abc", "", " ", "1.5", "-3", "0", HUGE_ID, None])
def test_the_job_lookup_finds_nothing_for_what_is_no_id(job_id):
    JobRunFactory()
    with pytest.raises(selectors.JobNotFound, match=r"^no job with id "):
        selectors.get_job(job_id)


# -- access --------------------------------------------------------------------------------
@pytest.mark.parametrize("path", POST_PATHS)
def test_a_post_without_the_csrf_token_is_403_json(api, path):
    JobRunFactory(pk=1)
    response = api.post(path, data="{}", content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "CSRF" in response.json()["error"]
    assert JobRun.objects.get(pk=1).status == JobStatus.QUEUED
    assert JobRun.objects.count() == 1


@pytest.mark.parametrize("path", POST_PATHS + GET_PATHS)
def test_anonymous_api_calls_are_401_json_not_a_login_page(client, path):
    JobRunFactory(pk=1)
    response = client.post(path) if path in POST_PATHS else client.get(path)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "log in" in response.json()["error"]


def test_anonymous_htmx_calls_send_the_browser_to_the_login_page(client):
    response = client.post(
        "/jobs/1/cancel",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/jobs/1/"},
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/login/?next=%2Fjobs%2F1%2F"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/actions/test-steps/start"),
        ("get", "/history/cancel-running"),
        ("post", "/queue/stats"),
    ],
)
def test_a_wrong_method_is_405_json(api, method, path):
    response = getattr(api, method)(path)
    assert response.status_code == 405
    assert "not allowed" in response.json()["error"]


def test_health_needs_no_login(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# -- the same endpoints from the page (HTMX) -------------------------------------------------
def test_htmx_start_answers_the_form_and_tells_the_page_jobs_changed(api):
    token = api.cookies["csrftoken"].value
    response = api.post(
        "/actions/test-steps/start",
        {"steps": "2", "step_ms": "0"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 202
    job = JobRun.objects.get()
    html = response.content.decode()
    assert 'id="start-test-steps"' in html
    assert f'data-job-id="{job.pk}"' in html
    assert json.loads(response["HX-Trigger"]) == {"jobs-changed": {"jobId": job.pk}}


def test_htmx_start_with_bad_params_re_renders_the_form_with_its_errors(api):
    token = api.cookies["csrftoken"].value
    response = api.post(
        "/actions/test-steps/start",
        {"steps": "-5", "step_ms": "0"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="field invalid"' in html
    assert "greater than or equal to 0" in html
    assert "HX-Trigger" not in response
    assert not JobRun.objects.exists()


def test_htmx_cancel_tells_the_page_even_when_the_job_had_finished(api):
    job = JobRunFactory(status=JobStatus.FAILED, finished_at=timezone.now())
    response = post(api, f"/jobs/{job.pk}/cancel", headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "jobs-changed" in json.loads(response["HX-Trigger"])


def test_htmx_cancel_running_answers_a_sentence(api):
    running_job()
    response = post(api, "/history/cancel-running", headers={"HX-Request": "true"})
    assert response.status_code == 200
    # A notice that goes away by itself (issue 16).
    assert response.content.decode() == '<span data-dismiss="6">Asked 1 running job to stop.</span>'

    assert "jobs-changed" in json.loads(response["HX-Trigger"])
