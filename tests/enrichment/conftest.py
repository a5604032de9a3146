"""Shared fixtures for the fake-server tests; plexapi is configured before its first import."""

from __future__ import annotations

import os

# plexapi reads these when imported (timezone) and when each object is built (autoreload):
# without them every missing attribute costs an extra request and datetimes are naive.
os.environ["PLEXAPI_PLEXAPI_AUTORELOAD"] = "false"
os.environ["PLEXAPI_PLEXAPI_TIMEZONE"] = "UTC"

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from plexapi.server import PlexServer
from plexapi.utils import setDatetimeTimezone

from enrichment.fakes import FakePlexServer, Library, generate_library

# In case another test module imported plexapi before this conftest ran.
setDatetimeTimezone("UTC")

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TOKEN = "test-plex-token"


@pytest.fixture(scope="session")
def library() -> Library:
    """A small library (about 30 artists) shared by read-only tests."""
    return generate_library(artists=30, seed=11, now=NOW)


@pytest.fixture(scope="session")
def paging_library() -> Library:
    """Exactly 2,500 tracks: 250 artists x 1 album x 10 tracks."""
    return generate_library(
        artists=250, seed=5, now=NOW, albums_per_artist=(1, 1), tracks_per_album=(10, 10)
    )


@pytest.fixture
def fake_plex(library: Library) -> Iterator[FakePlexServer]:
    with FakePlexServer(library, token=TOKEN) as server:
        yield server


@pytest.fixture
def plex(fake_plex: FakePlexServer) -> PlexServer:
    """A real plexapi PlexServer connected to the fake (counters reset after connecting)."""
    server = PlexServer(fake_plex.url, TOKEN)
    fake_plex.reset_counters()
    return server


@pytest.fixture(autouse=True)
def _no_leaked_server_threads() -> Iterator[None]:
    """Every fake a test starts must be stopped with all its threads joined."""
    before = set(threading.enumerate())
    yield
    leaked = [
        t
        for t in threading.enumerate()
        if t not in before and t.name.startswith(("plex-", "lastfm-", "spotify-", "Thread-"))
    ]
    assert not leaked, f"threads left running: {leaked}"
