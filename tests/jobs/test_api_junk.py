"""The HTTP API under generated junk (Hypothesis): bodies of every type, size, nesting and
script, for every registered job type; every API path with bad ids, wrong methods, no login,
no CSRF token. Never a 500 or a traceback, nothing enqueued by a refused request, and every
error is JSON with a message, under 1 KB. Pages may answer HTML, but never a 500."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st

from jobs import registry
from jobs.models import JobRun
from tests.jobs.junk import JUNK_SETTINGS, WORDS, json_values, text_values, type_names

pytestmark = pytest.mark.django_db

ALL_TYPES = [spec.name for spec in registry.all_types()]
ERROR_STATUSES = {400, 401, 403, 404, 405, 409, 413}
# The API's paths; ``{}`` takes a job id or a job type (junk, most of the time).
API_PATHS = [
    "/actions/{}/start",
    "/jobs/{}/cancel",
    "/history/cancel-running",
    "/queue/stats",
    "/jobs/{}.json",
    "/jobs/{}/stream",
    "/health",
    # Queue control (issue 15): a job type or a lane, or the whole queue.
    "/queue/control",
    "/queue/pause",
    "/queue/pause/{}",
    "/queue/resume/{}",
    "/queue/lanes/{}/limit",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=junk",
    "text/plain",
    "",
    "application/" + "x" * 300,
]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="junk", password="s3cret-pass")


def logged_in(user, *, csrf: bool) -> tuple[Client, dict[str, str]]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")
    headers = {"X-CSRFToken": client.cookies["csrftoken"].value} if csrf else {}
    return client, headers


def check(response, *, jobs_before: int) -> None:
    """What every answer must be, whatever was asked."""
    status = response.status_code
    assert status < 500, (status, response.content[:300])
    if response.streaming:
        response.close()
        return
    assert b"Traceback" not in response.content
    if status >= 400:
        assert status in ERROR_STATUSES, status
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        assert len(response.content) < 1024, len(response.content)
        if response.request["REQUEST_METHOD"] != "HEAD":  # HEAD answers carry no body
            assert json.loads(response.content)["error"]
    # Only a successful start adds a job (at most one: a unique type hands back its own).
    added = JobRun.objects.count() - jobs_before
    assert added == 0 or (added == 1 and status == 202), (status, added)


id_segments = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(WORDS),
    st.text(max_size=40),
    st.sampled_from(ALL_TYPES),
    st.sampled_from(["test-lane", "cache", "*"]),
).map(lambda s: quote(s, safe=""))


@JUNK_SETTINGS
@example(  # "%2F" is a "/" to the resolver: still the start endpoint
    path="/actions/{}/start", segment="a%2Fb", method="POST", auth="full",
    content_type="application/json", body=b"{}",
)  # fmt: skip
@given(
    path=st.sampled_from(API_PATHS),
    segment=id_segments,
    method=st.sampled_from(METHODS),
    auth=st.sampled_from(["anonymous", "no-csrf", "full"]),
    content_type=st.sampled_from(CONTENT_TYPES),
    body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_every_api_path_answers_junk_with_json_errors(
    user, path, segment, method, auth, content_type, body
):
    if auth == "anonymous":
        client, headers = Client(enforce_csrf_checks=True), {}
    else:
        client, headers = logged_in(user, csrf=auth == "full")
    before = JobRun.objects.count()
    response = client.generic(
        method, path.format(segment), data=body, content_type=content_type, headers=headers
    )
    check(response, jobs_before=before)
    if path.startswith("/jobs/{}") and not segment.isdigit():
        assert response.status_code in (401, 404, 405), response.status_code


@JUNK_SETTINGS
@given(
    job_type=st.sampled_from(ALL_TYPES),
    data=st.data(),
)
def test_start_with_junk_json_params_is_a_brief_400_or_a_clean_job(user, job_type, data):
    names = [*registry.get(job_type).params.base_fields, *type_names()]
    params = data.draw(st.dictionaries(st.sampled_from(names) | st.text(max_size=20), json_values))
    client, headers = logged_in(user, csrf=True)
    before = JobRun.objects.count()
    response = client.post(
        f"/actions/{job_type}/start",
        data=json.dumps(params),
        content_type="application/json",
        headers=headers,
    )
    check(response, jobs_before=before)
    assert response.status_code in (200, 202, 400, 413)  # 413: over 2.5 MB
    if response.status_code == 400:
        assert response.json()["fields"] or "invalid" in response.json()["error"]


@JUNK_SETTINGS
@given(
    job_type=st.sampled_from(ALL_TYPES),
    data=st.data(),
    htmx=st.booleans(),
)
def test_start_with_junk_form_data_is_a_400_or_a_clean_job(user, job_type, data, htmx):
    names = [*registry.get(job_type).params.base_fields, *type_names()]
    pairs = data.draw(
        st.lists(st.tuples(st.sampled_from(names) | st.text(max_size=20), text_values), max_size=6)
    )
    client, headers = logged_in(user, csrf=True)
    if htmx:
        headers["HX-Request"] = "true"
    before = JobRun.objects.count()
    response = client.post(
        f"/actions/{job_type}/start",
        data=urlencode(pairs),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )
    if htmx and response.status_code == 400 and response["Content-Type"].startswith("text/html"):
        # The page's form comes back with its errors; the quoted values stay short.
        assert JobRun.objects.count() == before
        assert "x" * 81 not in response.content.decode().split("<input")[0]
        return
    check(response, jobs_before=before)


@JUNK_SETTINGS
@given(depth=st.integers(min_value=1, max_value=100_000), kind=st.sampled_from(["[", "{"]))
def test_deeply_nested_json_is_a_400(user, depth, kind):
    client, headers = logged_in(user, csrf=True)
    opening = '{"dry_run": ' + ('{"a": ' * depth if kind == "{" else "[" * depth)
    closing = ("}" * depth if kind == "{" else "]" * depth) + "}"
    before = JobRun.objects.count()
    response = client.post(
        "/actions/cache-warm/start",
        data=opening + "1" + closing,
        content_type="application/json",
        headers=headers,
    )
    check(response, jobs_before=before)
    assert response.status_code == 400


def test_a_body_over_the_upload_limit_is_a_413_json(user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client, headers = logged_in(user, csrf=True)
    for content_type, body in [
        ("application/json", json.dumps({"dry_run": "x" * 20_000})),
        ("application/x-www-form-urlencoded", urlencode({"dry_run": "x" * 20_000})),
    ]:
        response = client.post(
            "/actions/cache-warm/start", data=body, content_type=content_type, headers=headers
        )
        assert response.status_code == 413
        assert "too large" in response.json()["error"]
    assert not JobRun.objects.exists()


def test_a_2_mb_value_gets_a_short_400_naming_the_field(user):
    client, headers = logged_in(user, csrf=True)
    response = client.post(
        "/actions/playlist/start",
        data=json.dumps({"window": "x" * 2_000_000}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 400
    assert len(response.content) < 1024
    assert "window" in response.json()["fields"]


def test_the_dashboard_form_shown_again_does_not_echo_a_megabyte_value(user):
    client, headers = logged_in(user, csrf=True)
    headers["HX-Request"] = "true"
    response = client.post(
        "/actions/test-steps/start",
        data={"steps": "1" * 1_000_000, "marker": "m" * 1_000_000},
        headers=headers,
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert len(response.content) < 20_000  # the form and its errors, not the paste
    assert b"Ensure this value has at most 500 characters" in response.content
    assert not JobRun.objects.exists()


@pytest.mark.parametrize(
    ("method", "path", "status", "fragment"),
    [
        ("post", "/jobs/abc/cancel", 404, "job_id must be a whole number, not 'abc'"),
        ("get", "/jobs/abc.json", 404, "job_id must be a whole number"),
        ("get", "/jobs/abc/stream", 404, "job_id must be a whole number"),
        ("get", "/jobs/1/cancel", 405, "not allowed"),
        ("post", "/health", 405, "not allowed"),
        ("delete", "/queue/stats", 405, "not allowed"),
    ],
)
def test_bad_ids_and_wrong_methods_are_json(user, method, path, status, fragment):
    client, headers = logged_in(user, csrf=True)
    response = getattr(client, method)(path, headers=headers)
    assert response.status_code == status
    assert fragment in response.json()["error"]


def test_a_csrf_failure_is_json_on_the_api_and_a_page_elsewhere(user):
    client, _ = logged_in(user, csrf=False)
    api = client.post("/actions/cache-warm/start", data="{}", content_type="application/json")
    assert api.status_code == 403
    assert "CSRF" in api.json()["error"]
    page = Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"})
    assert page.status_code == 403
    assert page["Content-Type"].startswith("text/html")


def test_an_unknown_page_is_still_an_html_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@JUNK_SETTINGS
@example(page="/jobs/", query=[("until", "9999-12-31")])  # the day after does not exist
@example(page="/jobs/metrics", query=[("since", "0001-01-01"), ("until", "9999-12-31")])
@example(page="/jobs/", query=[("before", "9" * 30)])
@given(
    page=st.sampled_from(["/", "/jobs/", "/jobs/metrics", "/partials/live", "/playlists/"]),
    query=st.lists(
        st.tuples(
            st.sampled_from(["type", "status", "trigger", "since", "until", "before", "after"])
            | st.text(max_size=10),
            st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30", "9" * 30, "-1"])
            | text_values,
        ),
        max_size=4,
    ),
)
def test_pages_never_fail_on_junk_queries(user, page, query):
    client, _ = logged_in(user, csrf=True)
    response = client.get(page + "?" + urlencode(query))
    assert response.status_code < 500


@JUNK_SETTINGS
@example(segment="9" * 30, suffix="/")
@given(segment=id_segments, suffix=st.sampled_from(["/", "/live"]))
def test_job_pages_never_fail_on_junk_ids(user, segment, suffix):
    client, _ = logged_in(user, csrf=True)
    response = client.get(f"/jobs/{segment}{suffix}")
    assert response.status_code in (200, 301, 404)
