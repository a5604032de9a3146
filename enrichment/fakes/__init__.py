"""Protocol-faithful fake Plex, Last.fm and Spotify servers on 127.0.0.1.

The real clients (plexapi, requests) run against them unchanged, in tests, benchmarks and the
app's demo mode. Everything is stdlib-only and deterministic for a library seed.
"""

from __future__ import annotations

from enrichment.fakes.audiomuse import AnalyzedTrack, FakeAudioMuse
from enrichment.fakes.base import FakeServer, Request, Response
from enrichment.fakes.counters import STATUS_DROPPED, RequestRecord, RequestStats
from enrichment.fakes.demo import DemoServices, start_demo_services
from enrichment.fakes.faults import FaultPlan, RateLimit
from enrichment.fakes.lastfm import FakeLastFm
from enrichment.fakes.library import Album, Artist, Library, Play, Track, generate_library
from enrichment.fakes.plex import FakePlexServer
from enrichment.fakes.plex_playlists import PlaylistEntry, PlaylistView
from enrichment.fakes.spotify import FakeSpotify

__all__ = [
    "STATUS_DROPPED",
    "Album",
    "AnalyzedTrack",
    "Artist",
    "DemoServices",
    "FakeAudioMuse",
    "FakeLastFm",
    "FakePlexServer",
    "FakeServer",
    "FakeSpotify",
    "FaultPlan",
    "Library",
    "Play",
    "PlaylistEntry",
    "PlaylistView",
    "RateLimit",
    "Request",
    "RequestRecord",
    "RequestStats",
    "Response",
    "Track",
    "generate_library",
    "start_demo_services",
]
