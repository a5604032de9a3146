"""Queue control from the dashboard, the JSON API and the admin (issue 15 item 4)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from jobs import control
from jobs.models import JobLane
from tests.jobs.test_api import post

pytestmark = pytest.mark.django_db


def htmx_post(client: Client, path: str, data=None):
    return post(client, path, data, headers={"HX-Request": "true"})


def test_pause_and_resume_the_queue_through_the_api(api):
    paused = post(api, "/queue/pause")
    assert paused.status_code == 200
    body = paused.json()
    assert body["paused"]["by"] == "alice"
    assert control.queue_state().queue is not None

    resumed = post(api, "/queue/resume")
    assert resumed.status_code == 200
    assert resumed.json()["paused"] is None


def test_pause_a_type_and_set_a_lanes_limit_through_the_api(api):
    assert post(api, "/queue/pause/test-lane-a").json()["paused_types"]["test-lane-a"]["by"] == (
        "alice"
    )
    limited = post(api, "/queue/lanes/test-lane/limit", {"limit": 2})
    assert limited.status_code == 200
    lanes = {lane["name"]: lane for lane in limited.json()["lanes"]}
    assert lanes["test-lane"]["limit"] == 2
    assert lanes["test-lane"]["types"] == ["test-lane-a", "test-lane-b"]
    cleared = post(api, "/queue/lanes/test-lane/limit", {"limit": None})
    assert {lane["name"]: lane["limit"] for lane in cleared.json()["lanes"]}["test-lane"] is None
    assert api.get("/queue/control").json()["paused_types"]["test-lane-a"]["by"] == "alice"


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 0},
        {"limit": -1},
        {"limit": 1001},
        {"limit": True},
        {"limit": "2"},
        {"limit": 1.5},
        {"limit": [1]},
        {"limit": 1, "extra": 1},
        {},
        [1],
        "junk",
    ],
)
def test_a_junk_limit_is_a_json_400_and_changes_nothing(api, body):
    response = post(api, "/queue/lanes/test-lane/limit", body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not JobLane.objects.exists()


@pytest.mark.parametrize(
    "path",
    ["/queue/pause/nope", "/queue/resume/nope", "/queue/lanes/nope/limit",
     "/queue/lanes/test-lane-a/limit", "/queue/pause/" + "x" * 3000],
)  # fmt: skip
def test_unknown_names_are_a_json_400(api, path):
    response = post(api, path, {"limit": 1})
    assert response.status_code == 400
    assert "error" in response.json()
    assert not JobLane.objects.exists()


def test_anonymous_and_csrf_less_posts_are_refused(api, user):
    assert Client().post("/queue/pause").status_code == 401
    assert api.post("/queue/pause").status_code == 403
    assert not JobLane.objects.exists()


def test_the_dashboard_shows_the_pause_banner_in_local_time_and_the_controls(api):
    api.cookies["tz"] = "America/New_York"
    control.pause(by="admin")
    control.pause(name="test-lane-a", by="bob")
    page = api.get("/").content.decode()
    at = JobLane.objects.get(name=control.QUEUE).paused_at
    local = timezone.localtime(at, timezone=__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert (
        f'Queue paused by admin at <time datetime="{local.isoformat()}">{local:%H:%M}</time>'
        in page
    )
    assert "test-lane-a paused by bob" in page
    assert "Resume the queue" in page
    assert re.search(r'hx-post="/queue/lanes/test-lane/limit"', page)


def test_the_dashboards_controls_answer_with_the_partial(api):
    response = htmx_post(api, "/queue/pause/test-lane-b")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue-control"')
    assert "test-lane-b paused by alice" in html
    assert response["HX-Trigger"]
    form = api.post(
        "/queue/lanes/test-lane/limit",
        {"limit": "3"},
        headers={"X-CSRFToken": api.cookies["csrftoken"].value, "HX-Request": "true"},
    )
    assert form.status_code == 200
    assert JobLane.objects.get(name="test-lane").max_running == 3


def test_the_admin_pauses_and_limits(admin_client):
    response = admin_client.post(
        "/admin/jobs/joblane/add/", {"name": "test-lane", "max_running": "2"}
    )
    assert response.status_code == 302
    assert JobLane.objects.get(name="test-lane").max_running == 2
    bad = admin_client.post("/admin/jobs/joblane/add/", {"name": "test-lane-a", "max_running": "2"})
    assert bad.status_code == 200
    assert "runs in the lane test-lane" in bad.content.decode()
    lane = JobLane.objects.get(name="test-lane")
    admin_client.post("/admin/jobs/joblane/", {"action": "pause", "_selected_action": [lane.pk]})
    assert JobLane.objects.get(name="test-lane").paused_by == "admin"
