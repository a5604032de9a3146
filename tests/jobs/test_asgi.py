"""The request thread a job's progress stream lets go of (jobs.asgi); the stream itself under
uvicorn is in test_stream.py."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from jobs.asgi import RequestThread, releasable_request_threads, release_request_thread


def test_a_request_thread_runs_every_call_on_one_thread_until_released():
    thread = RequestThread()
    first = [thread.submit(threading.current_thread).result() for _ in range(3)]
    assert first[0] is first[1] is first[2] is not threading.current_thread()
    thread.release()
    first[0].join(5)
    assert not first[0].is_alive()  # let go: the thread ended
    assert thread.submit(threading.current_thread).result() is not first[0]
    thread.shutdown()
    with pytest.raises(RuntimeError, match="ended"):
        thread.submit(int)


def test_a_wrapped_request_s_thread_sensitive_calls_share_its_thread_until_it_releases_it():
    seen: list[threading.Thread] = []

    async def app(scope, receive, send):
        here = sync_to_async(threading.current_thread)  # thread-sensitive, as Django's calls
        seen.extend([await here(), await here()])
        release_request_thread()
        seen.append(await here())

    asyncio.run(releasable_request_threads(app)({"type": "http"}, None, None))
    before, again, after = seen
    assert before is again and after is not before
    before.join(5)
    assert not before.is_alive()
