"""Start all three fakes together, for the app's demo mode (and ``manage.py demo_services``)."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from enrichment.fakes.lastfm import FakeLastFm
from enrichment.fakes.plex import FakePlexServer
from enrichment.fakes.spotify import FakeSpotify

if TYPE_CHECKING:
    from types import TracebackType

    from enrichment.fakes.models import Library


@dataclass(frozen=True, slots=True)
class DemoServices:
    """Running fakes plus what a client needs to reach them. Secrets stay out of ``repr``."""

    plex: FakePlexServer
    lastfm: FakeLastFm
    spotify: FakeSpotify
    plex_url: str
    lastfm_url: str
    spotify_token_url: str
    spotify_api_url: str
    plex_token: str = field(repr=False)
    lastfm_api_key: str = field(repr=False)
    spotify_client_id: str = field(repr=False)
    spotify_client_secret: str = field(repr=False)

    def stop(self) -> None:
        """Stop all three servers (each stop joins its threads)."""
        for server in (self.plex, self.lastfm, self.spotify):
            server.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_demo_services(
    library: Library,
    *,
    plex_token: str | None = None,
    lastfm_api_key: str | None = None,
    spotify_client_id: str | None = None,
    spotify_client_secret: str | None = None,
    plex_port: int = 0,
    lastfm_port: int = 0,
    spotify_port: int = 0,
    latency: float = 0.0,
) -> DemoServices:
    """Start fake Plex, Last.fm and Spotify over ``library``; missing secrets are generated.

    ``lastfm_url`` is the API root to append ``?method=...`` to (``.../2.0/``).
    """
    plex = FakePlexServer(
        library, token=plex_token or secrets.token_urlsafe(20), port=plex_port, latency=latency
    )
    lastfm = FakeLastFm(
        library, api_key=lastfm_api_key or secrets.token_hex(16), port=lastfm_port, latency=latency
    )
    spotify = FakeSpotify(
        library,
        client_id=spotify_client_id or secrets.token_hex(16),
        client_secret=spotify_client_secret or secrets.token_hex(16),
        port=spotify_port,
        latency=latency,
    )
    started: list[FakePlexServer | FakeLastFm | FakeSpotify] = []
    try:
        for server in (plex, lastfm, spotify):
            server.start()
            started.append(server)
    except BaseException:
        for server in started:
            with contextlib.suppress(Exception):
                server.stop()
        raise
    return DemoServices(
        plex=plex,
        lastfm=lastfm,
        spotify=spotify,
        plex_url=plex.url,
        lastfm_url=f"{lastfm.url}/2.0/",
        spotify_token_url=f"{spotify.url}/api/token",
        spotify_api_url=f"{spotify.url}/v1",
        plex_token=plex.token,
        lastfm_api_key=lastfm.api_key,
        spotify_client_id=spotify.client_id,
        spotify_client_secret=spotify.client_secret,
    )
