"""The shared fake-server machinery: lifecycle, latency, faults, counters, demo services."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from xml.etree.ElementTree import ParseError

import pytest
import requests
from plexapi.server import PlexServer

from enrichment.fakes import (
    STATUS_DROPPED,
    FakePlexServer,
    FakeServer,
    FaultPlan,
    Library,
    Request,
    RequestRecord,
    Response,
    start_demo_services,
)
from enrichment.fakes.counters import RequestLog

from .conftest import TOKEN


class EchoServer(FakeServer):
    """The smallest possible fake: answers ``ok`` as JSON on every path."""

    name = "echo"

    def endpoint(self, request: Request) -> str:
        return request.path.strip("/") or "root"

    def handle(self, request: Request) -> Response:
        return Response(200, b'{"ok": true, "padding": "0123456789"}', "application/json")


def _statuses(server: FakeServer, count: int, path: str = "/a") -> list[int]:
    with requests.Session() as session:
        return [session.get(server.url + path, timeout=5).status_code for _ in range(count)]


def test_start_returns_a_loopback_url_and_stop_joins_threads() -> None:
    before = threading.active_count()
    server = EchoServer()
    url = server.start()
    assert url.startswith("http://127.0.0.1:")
    assert server.port > 0
    # A keep-alive session leaves its connection (and handler thread) open on purpose.
    session = requests.Session()
    assert session.get(url, timeout=5).status_code == 200
    server.stop()
    session.close()
    assert not server.running
    assert threading.active_count() == before


def test_a_given_port_is_used() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with EchoServer(port=port) as server:
        assert server.url == f"http://127.0.0.1:{port}"
        assert _statuses(server, 1) == [200]


def test_counters_by_endpoint_path_and_status() -> None:
    with EchoServer() as server:
        _statuses(server, 3, "/a")
        _statuses(server, 2, "/b")
        stats = server.stats()
        assert stats.total == 5
        assert stats.by_endpoint == {"a": 3, "b": 2}
        assert stats.by_path == {"/a": 3, "/b": 2}
        assert stats.by_status == {200: 5}
        assert server.request_count("a") == 3
        server.reset_counters()
        assert server.request_count() == 0
        assert server.records() == ()


def test_latency_is_applied() -> None:
    with EchoServer(latency=0.2) as server:
        started = time.monotonic()
        _statuses(server, 1)
        assert time.monotonic() - started >= 0.2
        server.set_latency(0.0)
        assert server.latency == 0.0


def test_fault_rates_are_roughly_honoured_and_repeat_for_a_seed() -> None:
    plan = FaultPlan(rate_429=0.2, retry_after=3, rate_500=0.1, rate_malformed=0.1, seed=42)
    with EchoServer(faults=plan) as server:
        first = _statuses(server, 400)
        server.set_faults(plan)  # reseeds
        second = _statuses(server, 400)
        faults = server.stats().by_fault

    assert first == second
    counts = Counter(first)
    assert 50 <= counts[429] <= 110
    assert 20 <= counts[500] <= 60
    assert 20 <= faults["malformed"] // 2 <= 60
    assert counts[200] == 400 - counts[429] - counts[500]


def test_injected_429_carries_retry_after_and_malformed_body_breaks_parsing() -> None:
    with EchoServer(faults=FaultPlan(rate_429=1.0, retry_after=9)) as server:
        response = requests.get(server.url, timeout=5)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "9"
        server.set_faults(FaultPlan(rate_malformed=1.0))
        broken = requests.get(server.url, timeout=5)
        assert broken.status_code == 200
        with pytest.raises(requests.JSONDecodeError):
            broken.json()


def test_faults_can_target_one_endpoint() -> None:
    with EchoServer(faults=FaultPlan(rate_500=1.0, endpoints=frozenset({"b"}))) as server:
        assert _statuses(server, 2, "/a") == [200, 200]
        assert _statuses(server, 2, "/b") == [500, 500]


def test_timeout_fault_drops_the_connection_and_stop_does_not_wait_for_it() -> None:
    server = EchoServer(faults=FaultPlan(rate_timeout=1.0, timeout_seconds=30))
    server.start()
    try:
        with pytest.raises(requests.Timeout):
            requests.get(server.url, timeout=0.3)
        assert server.stats().by_status == {STATUS_DROPPED: 1}
        assert server.stats().by_fault == {"timeout": 1}
    finally:
        started = time.monotonic()
        server.stop()
    assert time.monotonic() - started < 5


def test_max_in_window_on_known_timestamps() -> None:
    log = RequestLog()
    for at in (0.0, 0.1, 0.5, 0.99, 1.0, 1.5, 3.0):
        log.add(RequestRecord(at=at, method="GET", path="/", endpoint="x", status=200))
    log.add(RequestRecord(at=0.2, method="GET", path="/", endpoint="y", status=200))
    assert log.max_in_window(1.0) == 5  # 0.0, 0.1, 0.2, 0.5, 0.99
    assert log.max_in_window(1.0, endpoint="x") == 4
    assert log.max_in_window(0.005) == 1
    assert log.max_in_window(10.0) == 8


def test_windows_over_a_limit_on_known_timestamps() -> None:
    log = RequestLog()
    for at in (0.0, 0.1, 0.5, 0.99, 1.0, 1.5, 3.0):
        log.add(RequestRecord(at=at, method="GET", path="/", endpoint="x", status=200))
    # [0.0, 1.0) and [0.1, 1.1) hold 4; every later window fewer.
    assert log.windows_over(3, 1.0) == 2
    assert log.windows_over(4, 1.0) == 0
    assert log.windows_over(0, 1.0, endpoint="y") == 0
    assert log.windows_over(1, 0.005) == 0


def test_max_in_window_on_live_requests() -> None:
    with EchoServer() as server:
        _statuses(server, 5)
        assert server.max_in_window(seconds=60.0) == 5
        assert server.max_in_window(seconds=60.0, endpoint="a") == 5
        assert server.max_in_window(seconds=60.0, endpoint="b") == 0


def test_plex_malformed_body_breaks_plexapi(library: Library) -> None:
    with FakePlexServer(library, token=TOKEN) as fake:
        plex = PlexServer(fake.url, TOKEN)
        fake.set_faults(FaultPlan(rate_malformed=1.0))
        with pytest.raises(ParseError):
            plex.library.sections()


def test_demo_services(library: Library) -> None:
    with start_demo_services(library, plex_token="secret-plex-token") as demo:
        assert "secret-plex-token" not in repr(demo)
        assert demo.lastfm_api_key not in repr(demo)
        plex = requests.get(f"{demo.plex_url}/identity", timeout=5)
        assert plex.status_code == 200
        lastfm = requests.get(
            demo.lastfm_url,
            params={"method": "artist.getTopTags", "artist": "x", "api_key": demo.lastfm_api_key},
            timeout=5,
        )
        assert lastfm.json()["error"] == 6
        token = requests.post(
            demo.spotify_token_url,
            data={"grant_type": "client_credentials"},
            auth=(demo.spotify_client_id, demo.spotify_client_secret),
            timeout=5,
        )
        assert token.status_code == 200
        assert demo.spotify_api_url.endswith("/v1")
    assert not demo.plex.running and not demo.lastfm.running and not demo.spotify.running
