"""``GET /jobs/<id>/stream`` read by a real HTTP client until its final event, under WSGI
(pytest-django's threaded live server, as runserver) and under ASGI (uvicorn), on a real
cluster."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.utils import timezone

from jobs import services
from jobs.models import JobRun, JobStatus
from jobs.views import stream
from tests.cluster import BASE_DIR, free_port, subprocess_env, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("drained")]


@pytest.fixture
def session_cookie(django_user_model) -> dict[str, str]:
    """A logged-in session, stored in the database where any server process finds it."""
    client = Client()
    client.force_login(django_user_model.objects.create_user(username="dave", password="pw"))
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def read_events(response: requests.Response) -> Iterator[tuple[str, Any]]:
    """(event, data) per Server-Sent Event, ("comment", text) per comment line."""
    event, data = "message", []
    # One byte at a time: the default chunk size would wait for 512 bytes before a line.
    for line in response.iter_lines(chunk_size=1, decode_unicode=True):
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].strip())
        elif line == "" and data:
            yield event, json.loads("\n".join(data))
            event, data = "message", []


def read_stream(base_url: str, job_id: int, cookies: dict[str, str]) -> list[tuple[str, Any]]:
    with requests.get(
        f"{base_url}/jobs/{job_id}/stream", cookies=cookies, stream=True, timeout=30
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/event-stream"
        assert response.headers["Cache-Control"] == "no-cache"
        # The loop ends only when the server closes the stream.
        return list(read_events(response))


def check_progress_sequence(events: list[tuple[str, Any]], steps: int) -> None:
    progress = [data for kind, data in events if kind == "progress"]
    ends = [i for i, (kind, _) in enumerate(events) if kind == "end"]
    assert ends == [len(events) - 1], "one end event, and it comes last"
    end = events[-1][1]
    assert isinstance(end, dict)
    for data in [*progress, end]:
        assert isinstance(data, dict)
        assert {"current", "total", "message", "eta", "sourceCounts", "status"} <= set(data)
    currents = [data["current"] for data in progress] + [end["current"]]
    assert currents == sorted(currents), f"progress went backwards: {currents}"
    assert len({c for c in currents}) >= 3
    assert any(data["status"] == "running" and data["eta"] is not None for data in progress)
    assert progress[-1]["sourceCounts"]["plex"] > 0
    assert end["status"] == "success"
    assert end["current"] == end["total"] == steps
    assert end["result"] == {"steps": steps}
    # Every event says something new.
    payloads = [json.dumps(data, sort_keys=True) for data in progress]
    assert len(payloads) == len(set(payloads))


# -- WSGI (runserver) ------------------------------------------------------------------------
def test_stream_under_wsgi_sends_growing_progress_then_the_end_and_closes(
    live_server, session_cookie
):
    job = services.enqueue(
        job_type="test-steps", params={"steps": 30, "step_ms": 60, "source": "plex"}
    )
    events = read_stream(live_server.url, job.pk, session_cookie)
    check_progress_sequence(events, 30)


def test_stream_sends_heartbeats_while_nothing_changes_and_ends_on_cancel(
    live_server, session_cookie, monkeypatch
):
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.3)
    # Due in a minute: it waits in the queue, so nothing changes but the clock.
    job = services.enqueue(
        job_type="test-steps", params={"steps": 1}, run_after=timezone.now() + timedelta(minutes=1)
    )
    seen: list[tuple[str, Any]] = []
    with requests.get(
        f"{live_server.url}/jobs/{job.pk}/stream",
        cookies=session_cookie,
        stream=True,
        timeout=30,
    ) as response:
        pings = 0
        for kind, data in read_events(response):
            seen.append((kind, data))
            pings += (kind, data) == ("comment", "ping")
            if pings == 3 and kind == "comment":
                services.cancel_job(job_id=job.pk)
    kinds = [kind for kind, _ in seen]
    assert kinds[0] == "comment"  # the opening line
    assert kinds[1] == "progress" and seen[1][1]["status"] == "queued"
    assert kinds.count("progress") == 1
    assert seen.count(("comment", "ping")) >= 3
    assert kinds[-1] == "end"
    assert seen[-1][1]["status"] == "cancelled"
    assert seen[-1][1]["error"] == "Cancelled before it started"


def test_stream_of_a_finished_job_is_just_its_end(live_server, session_cookie):
    job = services.enqueue(job_type="test-steps", params={"steps": 2, "step_ms": 0})
    wait_for(lambda: JobRun.objects.get(pk=job.pk).status == JobStatus.SUCCESS, timeout=20)
    events = read_stream(live_server.url, job.pk, session_cookie)
    assert [kind for kind, _ in events] == ["comment", "end"]
    assert events[-1][1]["current"] == 2


# -- ASGI (uvicorn) --------------------------------------------------------------------------
@pytest.fixture
def uvicorn_server(transactional_db, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``uvicorn playlister.asgi:application`` on the test database: (base URL, pid)."""
    port = free_port()
    log = (tmp_path / "uvicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "playlister.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=subprocess_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"uvicorn exited: {(tmp_path / 'uvicorn.log').read_text()}")
        try:
            return requests.get(f"{base}/health", timeout=1).ok
        except requests.ConnectionError:
            return False

    wait_for(up, timeout=30, interval=0.1, what="uvicorn to answer")
    yield base, proc.pid
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    log.close()
    output = (tmp_path / "uvicorn.log").read_text()
    assert "Traceback" not in output and "ERROR" not in output, output


def threads_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Threads:")).split()[1])


def test_stream_under_asgi_sends_growing_progress_then_the_end_and_closes(
    uvicorn_server, session_cookie
):
    base, _ = uvicorn_server
    job = services.enqueue(
        job_type="test-steps", params={"steps": 30, "step_ms": 60, "source": "plex"}
    )
    events = read_stream(base, job.pk, session_cookie)
    check_progress_sequence(events, 30)
    # The rest of the app works under the ASGI server too, static files included.
    assert requests.get(f"{base}/static/css/app.css", timeout=5).status_code == 200
    page = requests.get(f"{base}/jobs/{job.pk}/", cookies=session_cookie, timeout=5)
    assert page.status_code == 200 and 'data-status="success"' in page.text


def test_streams_under_asgi_do_not_take_a_thread_each(uvicorn_server, session_cookie):
    base, pid = uvicorn_server
    job = services.enqueue(
        job_type="test-steps", params={"steps": 2000, "step_ms": 50, "source": "plex"}
    )
    wait_for(lambda: JobRun.objects.get(pk=job.pk).status == JobStatus.RUNNING, timeout=20)
    # Warm up the server's pools with one stream first.
    with requests.get(
        f"{base}/jobs/{job.pk}/stream", cookies=session_cookie, stream=True, timeout=30
    ) as response:
        next(kind for kind, _ in read_events(response) if kind == "progress")
    baseline = threads_of(pid)

    clients = 20
    opened = threading.Barrier(clients + 1, timeout=30)
    release = threading.Event()
    errors: list[BaseException] = []

    def watch() -> None:
        try:
            with requests.get(
                f"{base}/jobs/{job.pk}/stream", cookies=session_cookie, stream=True, timeout=30
            ) as response:
                events = read_events(response)
                next(kind for kind, _ in events if kind == "progress")
                opened.wait()
                release.wait(30)
        except BaseException as exc:
            errors.append(exc)
            with contextlib.suppress(threading.BrokenBarrierError):
                opened.abort()

    watchers = [threading.Thread(target=watch) for _ in range(clients)]
    for watcher in watchers:
        watcher.start()
    try:
        opened.wait()
        during = threads_of(pid)
    finally:
        release.set()
        for watcher in watchers:
            watcher.join(30)
    assert not errors, errors
    print(f"\nuvicorn threads: {baseline} before, {during} with {clients} open streams")
    assert during - baseline < clients // 2, (baseline, during)
