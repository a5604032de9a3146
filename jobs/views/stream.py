"""``GET /jobs/<id>/stream``: a job's progress as Server-Sent Events.

The stream sends ``event: progress`` whenever what a person would see changes (current,
total, message, eta, sourceCounts, status), a ``: ping`` comment after
``HEARTBEAT_SECONDS`` of silence so proxies keep the connection open, and finally
``event: end`` with the end state; then it closes. An ``EventSource`` client should close
itself on ``end`` (otherwise it reconnects and gets the ``end`` event again).

Under ASGI (uvicorn) the view is async and the body an async generator: it sleeps with
``asyncio.sleep`` and does each tick's reads through ``sync_to_async`` on a pooled thread, and
its request's own thread is let go once the body starts (``jobs.asgi``), so a waiting client
costs a coroutine, not a thread. Under WSGI (runserver, gunicorn sync workers) the body is a
plain generator, which holds the request's thread for as long as the stream lasts, as WSGI
must.

Reads per tick (``POLL_SECONDS``): the live store (a cache get) while the job runs; the row
every ``ROW_EVERY_SECONDS`` to see status changes, and twice as often while a running job
has no live state (it has just started, or just ended and its end state is in the row).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

from jobs import live, selectors
from jobs.asgi import release_request_thread
from jobs.models import JobRun, JobStatus
from jobs.views.access import api_endpoint
from jobs.views.present import end_event

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

POLL_SECONDS = 0.25
ROW_EVERY_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
# Tells an EventSource how long to wait before reconnecting after a network error.
RETRY_MS = 3000


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class JobStream:
    """The stream's state; ``step()`` does one tick's reads and returns what to send."""

    def __init__(self, job: JobRun) -> None:
        self.job = job
        self.done = False
        self._row_read_at = time.monotonic()
        self._last_sent_at = time.monotonic()
        self._last_payload: dict[str, Any] | None = None

    def opening(self) -> str:
        # A first comment line gets the headers through buffering proxies at once.
        return f"retry: {RETRY_MS}\n: stream of job {self.job.pk}\n\n"

    def _reload(self) -> None:
        job = JobRun.objects.filter(pk=self.job.pk).first()
        self._row_read_at = time.monotonic()
        if job is None:  # pruned while someone watched: end with what was last known
            self.job.status = JobStatus.FAILED
            self.job.error = self.job.error or "The job's record was deleted."
        else:
            self.job = job

    def step(self) -> list[str]:
        # Under ASGI this runs on a pooled thread that no request cycle tidies up after.
        close_old_connections()
        now = time.monotonic()
        running = self.job.status == JobStatus.RUNNING
        state = live.read_progress(self.job.pk) if running else None
        # A running job without live state has just started or just ended: look sooner.
        due = ROW_EVERY_SECONDS if state is not None or not running else 2 * POLL_SECONDS
        if now - self._row_read_at >= due:
            self._reload()
        progress = selectors.progress_of(self.job, state)
        if self.job.is_finished:
            self.done = True
            return [sse("end", end_event(self.job, progress))]
        payload = progress.as_json()
        if payload != self._last_payload:
            self._last_payload = payload
            self._last_sent_at = now
            return [sse("progress", payload)]
        if now - self._last_sent_at >= HEARTBEAT_SECONDS:
            self._last_sent_at = now
            return [": ping\n\n"]
        return []


def _sync_events(stream: JobStream) -> Iterator[str]:
    yield stream.opening()
    while True:
        yield from stream.step()
        if stream.done:
            return
        time.sleep(POLL_SECONDS)


async def _async_events(stream: JobStream) -> AsyncIterator[str]:
    # The request's sync work is done: its thread need not wait hours for the stream's end.
    release_request_thread()
    yield stream.opening()
    # Not thread-sensitive: each tick borrows a thread of the loop's shared pool for its
    # reads and gives it back; a sleeping stream holds no thread.
    step = sync_to_async(stream.step, thread_sensitive=False)
    while True:
        for chunk in await step():
            yield chunk
        if stream.done:
            return
        await asyncio.sleep(POLL_SECONDS)


@api_endpoint(["GET"])
async def job_stream(request: HttpRequest, job_id: int) -> HttpResponseBase:
    """Server-Sent Events of one job's progress until it ends (see the module docstring).

    An async view, so that under ASGI no thread serves it; under WSGI Django runs it through
    ``async_to_sync`` and it hands back a plain generator.
    """
    job = await sync_to_async(selectors.get_job)(job_id)
    stream = JobStream(job)
    body: Iterator[str] | AsyncIterator[str]
    body = _async_events(stream) if isinstance(request, ASGIRequest) else _sync_events(stream)
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    # nginx would otherwise buffer the stream until it ends.
    response["X-Accel-Buffering"] = "no"
    return response
