"""A reusable fake HTTP server: lifecycle, latency, fault injection, rate limits, counters.

Concrete fakes (Plex, Last.fm, Spotify) subclass :class:`FakeServer` and implement
:meth:`FakeServer.endpoint` and :meth:`FakeServer.handle`. Everything here is stdlib only so the
fakes can run inside tests, benchmarks and the app's demo mode alike.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import parse_qs, unquote, urlsplit

from enrichment.fakes.counters import STATUS_DROPPED, RequestLog, RequestRecord
from enrichment.fakes.faults import FaultInjector, RateLimiter

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from enrichment.fakes.counters import RequestStats
    from enrichment.fakes.faults import Fault, FaultPlan, RateLimit

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed HTTP request as seen by a fake; header names are lower-cased."""

    method: str
    path: str
    raw_query: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of query parameter ``name`` (case-sensitive), or ``default``."""
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        """Header value looked up case-insensitively."""
        return self.headers.get(name.lower(), default)


@dataclass(frozen=True, slots=True)
class Response:
    """What a fake sends back; ``headers`` are extra headers besides Content-Type/Length."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def json_response(
    status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """A JSON answer (UTF-8, compact, as the real APIs send it)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, "application/json; charset=utf-8", headers)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a name, for lookups the real services forgive."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that can force idle keep-alive connections closed on stop.

    Non-daemon handler threads plus ``block_on_close`` make ``server_close`` join them, and
    the socket sweep in :meth:`close_connections` guarantees none is parked on a read.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], fake: FakeServer) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Registered on the accept thread, so nothing accepted before shutdown() can escape.
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # Safety net: an abandoned keep-alive connection must not pin a thread forever.
    timeout = 60
    # Headers and body leave in separate writes; with Nagle plus delayed ACKs every
    # keep-alive request would stall ~40 ms.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    do_POST = do_GET
    do_PUT = do_GET
    do_DELETE = do_GET
    do_PATCH = do_GET
    do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        # The default logs the request line, whose query may hold tokens or API keys.
        return

    def send_fake_response(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)


class FakeServer(ABC):
    """Base class of the fakes: a ThreadingHTTPServer on 127.0.0.1 in a background thread.

    ``start()`` returns the base URL; ``stop()`` shuts down, closes and joins every thread.
    Latency, faults and rate limits can be changed while running. Counters are thread-safe.
    Per request: count → latency → injected fault → rate limit → :meth:`handle`.
    """

    name: ClassVar[str] = "fake"

    def __init__(
        self,
        *,
        port: int = 0,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        if latency < 0:
            raise ValueError("latency must be >= 0")
        self._requested_port = port
        self._latency = latency
        self._faults = FaultInjector(faults)
        self._limiter = RateLimiter(rate_limit)
        self._log = RequestLog()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        """Bind 127.0.0.1 (port 0 = any free port), serve in a thread, return the base URL."""
        if self._httpd is not None:
            return self.url
        self._stopping.clear()
        httpd = _Server((HOST, self._requested_port), self)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-{httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("%s listening on %s", self.name, self.url)
        return self.url

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers, close connections and join all threads."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join()
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The bound port (only while running)."""
        if self._httpd is None:
            raise RuntimeError(f"{self.name} is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{HOST}:{self.port}"

    # -- runtime configuration -------------------------------------------------------------

    @property
    def latency(self) -> float:
        """Seconds added to every request before it is handled."""
        return self._latency

    def set_latency(self, seconds: float) -> None:
        """Change the per-request latency."""
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self._latency = seconds

    @property
    def faults(self) -> FaultPlan:
        """The fault plan in force."""
        return self._faults.plan

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Replace the fault plan and reseed its generator (``None`` = no faults)."""
        self._faults.replace(plan)

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate limit in force."""
        return self._limiter.limit

    def set_rate_limit(self, limit: RateLimit | None) -> None:
        """Replace the rate limit (``None`` = unlimited) and forget its window."""
        self._limiter.replace(limit)

    # -- counters --------------------------------------------------------------------------

    def stats(self) -> RequestStats:
        """Snapshot of the counters: total, per endpoint, per path, per status, per fault."""
        return self._log.stats()

    def request_count(self, endpoint: str | None = None) -> int:
        """Requests seen in total or for one endpoint name."""
        return self._log.count(endpoint)

    def records(self, endpoint: str | None = None) -> tuple[RequestRecord, ...]:
        """Every recorded request (optionally for one endpoint), in arrival order."""
        return self._log.records(endpoint)

    def max_in_window(self, seconds: float = 1.0, endpoint: str | None = None) -> int:
        """Most requests (optionally of one endpoint) that arrived within any ``seconds`` span."""
        return self._log.max_in_window(seconds, endpoint)

    def windows_over(self, limit: int, seconds: float = 1.0, endpoint: str | None = None) -> int:
        """How many ``seconds`` windows (one starting at each arrival) held more than
        ``limit`` requests, answered or not."""
        return self._log.windows_over(limit, seconds, endpoint)

    def reset_counters(self) -> None:
        """Forget all recorded requests."""
        self._log.reset()

    # -- subclass API ----------------------------------------------------------------------

    @abstractmethod
    def endpoint(self, request: Request) -> str:
        """A short stable name for the request's endpoint, used by counters and fault filters."""

    @abstractmethod
    def handle(self, request: Request) -> Response:
        """Produce the response for a request that passed latency, faults and rate limits."""

    def too_many_requests(self, request: Request, retry_after: int) -> Response:
        """The service's rate-limit answer; subclasses override to speak their dialect."""
        return Response(429, b"Too Many Requests", headers=(("Retry-After", str(retry_after)),))

    def server_error(self, request: Request) -> Response:
        """The service's internal-error answer."""
        return Response(500, b"Internal Server Error")

    def malformed(self, response: Response) -> Response:
        """A broken body with the original status: cut short, so no parser accepts it."""
        body = response.body[: len(response.body) // 2] or b"<"
        return Response(response.status, body, response.content_type, response.headers)

    # -- request pipeline ------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        arrived = time.monotonic()
        request = self._parse(handler)
        try:
            endpoint = self.endpoint(request)
        except Exception:
            logger.exception("%s: endpoint() failed for %s", self.name, request.path)
            endpoint = "unknown"
        if self._latency > 0 and self._stopping.wait(self._latency):
            handler.close_connection = True
            return
        fault, plan = self._faults.draw(endpoint)
        if fault == "timeout":
            # Counted before the wait so a client that gave up already sees the count.
            self._record(arrived, request, endpoint, STATUS_DROPPED, fault)
            self._stopping.wait(plan.timeout_seconds)
            handler.close_connection = True
            return
        response = self._respond(request, endpoint, fault, plan)
        # Counted before the bytes go out: once the client has its answer, so does the test.
        self._record(arrived, request, endpoint, response.status, fault)
        try:
            handler.send_fake_response(response)
        except OSError:
            handler.close_connection = True

    def _respond(
        self, request: Request, endpoint: str, fault: Fault | None, plan: FaultPlan
    ) -> Response:
        if fault == "429":
            return self.too_many_requests(request, plan.retry_after)
        if fault == "500":
            return self.server_error(request)
        retry_after = self._limiter.check(endpoint)
        if retry_after is not None:
            return self.too_many_requests(request, retry_after)
        try:
            response = self.handle(request)
        except Exception:
            logger.exception(
                "%s: handler failed for %s %s", self.name, request.method, request.path
            )
            response = self.server_error(request)
        if fault == "malformed":
            response = self.malformed(response)
        return response

    def _record(
        self, arrived: float, request: Request, endpoint: str, status: int, fault: str | None
    ) -> None:
        query = {name: values[0] for name, values in request.query.items() if values}
        self._log.add(
            RequestRecord(arrived, request.method, request.path, endpoint, status, fault, query)
        )

    @staticmethod
    def _parse(handler: _Handler) -> Request:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length > 0 else b""
        return Request(
            method=handler.command,
            path=unquote(split.path) or "/",
            raw_query=split.query,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in handler.headers.items()},
            body=body,
        )
