"""3. ``POST /actions/<type>/start`` response time, p50.

Measured in-process with Django's test ``Client`` (logged in; the API checks CSRF itself and
the client, like any script holding a session, passes it): the whole Django stack —
middleware, session and user lookups, CSRF, parameter validation, the JobRun insert and the
ticket pushed to the broker — without an HTTP server and client in the way, whose cost does
not belong to Playlister and on a shared 2-core machine is mostly noise. No cluster runs
meanwhile; the queued jobs are removed afterwards.

Anchor: raw Django-Q2 ``async_task`` on the same broker (the bare cost of handing work to
the cluster), and ``GET /health`` through the same client (the floor of a request).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bench.common import Context, Row, Table, not_available, p50, p95, settle_queue, sized

if TYPE_CHECKING:
    from django.test import Client

REQUESTS = 300
GOAL_MS = 10.0
PATH = "/actions/bench-noop/start"


def _client() -> Client:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench")
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def _time(call: Callable[[], object], n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def available() -> str:
    """Why the API cannot be measured, or "" when it can."""
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    try:
        import jobs.views.api  # noqa: F401

        resolve(PATH)
        reverse("jobs:health")
    except (ImportError, Resolver404, NoReverseMatch) as exc:
        return f"the web API is not importable yet ({type(exc).__name__}: {exc})"
    return ""


def run(ctx: Context) -> list[Table]:
    from django_q.tasks import async_task

    from jobs import tickets

    reason = available()
    if reason:
        return [not_available("api", "POST /actions/<type>/start", ctx.mode, reason)]
    n = sized(REQUESTS, 30)
    client = _client()
    broker = tickets.broker()

    def start() -> None:
        response = client.post(PATH, data="{}", content_type="application/json")
        if response.status_code != 202 or "jobId" not in json.loads(response.content):
            raise RuntimeError(f"{PATH} answered {response.status_code}: {response.content!r}")

    def health() -> None:
        response = client.get("/health")
        if response.status_code != 200:
            raise RuntimeError(f"/health answered {response.status_code}")

    try:
        _time(start, 10)
        _time(health, 10)
        started = _time(start, n)
        raw = _time(lambda: async_task("bench.tasks.noop", save=False, broker=broker), n)
        floor = _time(health, n)
    finally:
        settle_queue()
    figure = p50(started)
    return [
        Table(
            bench="api",
            title=f"POST {PATH}, {n} requests (Django test client, in-process)",
            mode=ctx.mode,
            rows=[
                Row(
                    figure="POST start p50",
                    value=figure,
                    unit="ms",
                    anchor="raw async_task p50",
                    anchor_value=p50(raw),
                    goal=f"< {GOAL_MS:.0f} ms",
                    met=figure < GOAL_MS,
                    note=f"p95 {p95(started):.1f} ms; GET /health p50 {p50(floor):.1f} ms",
                ),
            ],
        )
    ]
