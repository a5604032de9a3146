"""Queue control over HTTP (issue 15 item 4); the dashboard's controls post here too.

| method, path                      | answer                                                     |
|-----------------------------------|------------------------------------------------------------|
| GET  /queue/control               | {"paused", "paused_types", "lanes"} (HTMX: the partial)    |
| POST /queue/pause[/<name>]        | 200 the state; 400 unknown type or lane                    |
| POST /queue/resume[/<name>]       | 200 the state; 400 unknown type or lane                    |
| POST /queue/lanes/<lane>/limit    | body {"limit": N or null} or form limit=N ("" or "none":   |
|                                   | no limit); 200 the state; 400 junk                         |

``<name>`` is a job type or a lane; without it, the whole queue. Logged-in users only, CSRF
as for every action (``api_endpoint``); a pause records the user's name.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django_htmx.http import trigger_client_event

from jobs import control
from jobs.views.access import api_endpoint, json_error
from jobs.views.api import JOBS_CHANGED

if TYPE_CHECKING:
    from jobs.views.access import HtmxHttpRequest

TEMPLATE = "jobs/queue_control.html#control"


def control_context() -> dict[str, Any]:
    """What the dashboard's queue-control section shows."""
    state = control.queue_state()
    return {
        "queue": state,
        # Job types and lanes paused on their own (the queue's pause is ``queue.queue``).
        "paused_types": sorted(state.paused.items()),
        "max_limit": control.MAX_LIMIT,
    }


def _answer(request: HtmxHttpRequest, *, changed: bool) -> HttpResponse:
    response: HttpResponse
    if request.htmx:
        response = render(request, TEMPLATE, control_context())
    else:
        response = JsonResponse(control.queue_state().as_json())
    if changed and request.htmx:
        # Queued jobs may start (or wait) now: the live region refreshes at once.
        trigger_client_event(response, JOBS_CHANGED)
    return response


@api_endpoint(["GET"])
def state(request: HtmxHttpRequest) -> HttpResponse:
    return _answer(request, changed=False)


@api_endpoint(["POST"])
def pause(request: HtmxHttpRequest, name: str | None = None) -> HttpResponse:
    try:
        control.pause(name=name, by=request.user.get_username())
    except control.ControlError as exc:
        return json_error(400, str(exc))
    return _answer(request, changed=True)


@api_endpoint(["POST"])
def resume(request: HtmxHttpRequest, name: str | None = None) -> HttpResponse:
    try:
        control.resume(name=name)
    except control.ControlError as exc:
        return json_error(400, str(exc))
    return _answer(request, changed=True)


class _BadLimit(Exception):
    pass


LIMIT_HELP = f'Send {{"limit": N}} with N from 1 to {control.MAX_LIMIT}, or {{"limit": null}}.'


def _limit_from(request: HtmxHttpRequest) -> int | None:
    """The posted limit: a JSON ``{"limit": N | null}`` or form ``limit=N`` ("" or "none":
    no limit). Anything else is junk (``_BadLimit``)."""
    value: Any
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, RecursionError):
            raise _BadLimit("The body is not valid JSON.") from None
        if not isinstance(data, dict) or set(data) != {"limit"}:
            raise _BadLimit(LIMIT_HELP)
        value = data["limit"]
        if value is None:
            return None
        # A bool is an int to Python, not a limit to a person.
        if isinstance(value, bool) or not isinstance(value, int):
            raise _BadLimit(LIMIT_HELP)
        return value
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        text = request.POST.get("limit")
        if text is None:
            raise _BadLimit(LIMIT_HELP)
        text = text.strip().lower()
        if text in ("", "none"):
            return None
        if text.isascii() and text.isdigit() and len(text) <= 6:
            return int(text)
        raise _BadLimit(LIMIT_HELP)
    raise _BadLimit(f"Send JSON or form data. {LIMIT_HELP}")


@api_endpoint(["POST"])
def set_limit(request: HtmxHttpRequest, lane: str) -> HttpResponse:
    try:
        control.set_limit(lane=lane, limit=_limit_from(request))
    except (_BadLimit, control.ControlError) as exc:
        return json_error(400, str(exc))
    return _answer(request, changed=True)
