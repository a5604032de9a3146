"""A request thread that a long response can let go of (job streams under ASGI).

Django's ASGI handler runs each request in an asgiref ``ThreadSensitiveContext``: its
thread-sensitive sync work (the ``request_started`` receivers, sync middleware, the view's
first read) runs on one thread started for the request, which lives until the response has
been sent. For a Server-Sent Events stream of a long job that means hours of an idle thread
per client. asgiref lets the caller supply that context's executor
(``ThreadSensitiveContext(executor=...)``, new in 3.13; the caller owns it), so
:func:`releasable_request_threads` wraps the ASGI application and gives every HTTP request a
:class:`RequestThread`, and a response that is done with sync work — the stream, once its
body starts — calls :func:`release_request_thread`. Django's own context inside then reuses
the outer one, as asgiref's outermost context wins.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from asgiref.sync import ThreadSensitiveContext

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    # As Django's ASGIHandler is typed.
    Scope = dict[str, Any]
    Receive = Callable[[], Awaitable[Mapping[str, Any]]]
    Send = Callable[[Mapping[str, Any]], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_current: ContextVar[RequestThread | None] = ContextVar("request_thread", default=None)


class RequestThread(Executor):
    """One request's thread-sensitive calls: one at a time on one thread, as asgiref asks.

    The thread starts with the first call; ``release()`` lets it end, and a later call
    (Django closing the response) starts another. Release only once the request's sync work
    is done: what ran before and what runs after do not share a thread (nor a database
    connection).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the request has ended")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")
            return self._pool.submit(fn, *args, **kwargs)

    def release(self) -> None:
        """Let the thread end once its current call (if any) returns."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            # Never wait here: the thread may itself be waiting for the event loop.
            pool.shutdown(wait=False)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def releasable_request_threads(app: ASGIApp) -> ASGIApp:
    """``app`` with a :class:`RequestThread` per HTTP request (see the module docstring)."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        thread = RequestThread()
        token = _current.set(thread)
        try:
            async with ThreadSensitiveContext(executor=thread):
                await app(scope, receive, send)
        finally:
            _current.reset(token)
            thread.shutdown(wait=False)

    return application


def release_request_thread() -> None:
    """Let this request's thread go (a no-op outside :func:`releasable_request_threads`)."""
    thread = _current.get()
    if thread is not None:
        thread.release()
