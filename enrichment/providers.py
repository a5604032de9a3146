"""The metadata providers of one job run, built from settings.

Each job gets its own HTTP sessions (bound to its cancel token) while the rate limits are
shared by every process. A provider that is not configured is simply absent; a provider
that rejects its configuration fails the job with a line naming the setting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from enrichment.http import ProviderSession
from enrichment.lastfm import LastFmClient
from enrichment.plex import PlexLibrary, connect
from enrichment.ratelimit import RateLimiter
from enrichment.spotify import SpotifyClient
from jobs.cancel import NEVER, CancelToken


@dataclass
class Providers:
    plex: PlexLibrary
    lastfm: LastFmClient | None
    spotify: SpotifyClient | None
    sessions: list[ProviderSession] = field(default_factory=list)

    @property
    def requests_sent(self) -> int:
        return sum(s.requests_sent for s in self.sessions)

    def close(self) -> None:
        for session in self.sessions:
            session.close()


def _session(provider: str, rate: float, cancel: CancelToken) -> ProviderSession:
    return ProviderSession(
        provider=provider,
        timeout=settings.PLAYLISTER_HTTP_TIMEOUT,
        max_attempts=settings.PLAYLISTER_HTTP_ATTEMPTS,
        rate_limiter=RateLimiter(provider.lower().replace(".", ""), rate),
        cancel=cancel,
    )


def providers_from_settings(*, cancel: CancelToken = NEVER) -> Providers:
    """Connect to Plex (required) and prepare Last.fm and Spotify when configured."""
    cancel.raise_if_cancelled()
    plex = PlexLibrary(connect())
    sessions: list[ProviderSession] = []
    lastfm = spotify = None
    if settings.PLAYLISTER_LASTFM_API_KEY:
        session = _session("Last.fm", settings.PLAYLISTER_LASTFM_RATE, cancel)
        sessions.append(session)
        lastfm = LastFmClient(
            url=settings.PLAYLISTER_LASTFM_URL,
            api_key=settings.PLAYLISTER_LASTFM_API_KEY,
            session=session,
        )
    if settings.PLAYLISTER_SPOTIFY_CLIENT_ID and settings.PLAYLISTER_SPOTIFY_CLIENT_SECRET:
        session = _session("Spotify", settings.PLAYLISTER_SPOTIFY_RATE, cancel)
        sessions.append(session)
        spotify = SpotifyClient(
            token_url=settings.PLAYLISTER_SPOTIFY_TOKEN_URL,
            api_url=settings.PLAYLISTER_SPOTIFY_API_URL,
            client_id=settings.PLAYLISTER_SPOTIFY_CLIENT_ID,
            client_secret=settings.PLAYLISTER_SPOTIFY_CLIENT_SECRET,
            session=session,
        )
    return Providers(plex=plex, lastfm=lastfm, spotify=spotify, sessions=sessions)
