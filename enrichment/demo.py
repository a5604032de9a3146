"""The demo mode: a generated library served by the fake servers, for a newcomer with no
Plex server (``make run`` with nothing configured, ``manage.py demo_services``)."""

from __future__ import annotations

import secrets
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from enrichment.fakes import DemoServices, FakeAudioMuse, generate_library, start_demo_services

if TYPE_CHECKING:
    from pathlib import Path

DEMO_ARTISTS = 300
DEMO_SEED = 2026


@dataclass
class Demo:
    """The running demo fakes: Plex, Last.fm and Spotify, and AudioMuse-AI."""

    services: DemoServices
    audiomuse: FakeAudioMuse
    audiomuse_token: str = field(repr=False)

    def stop(self) -> None:
        self.services.stop()
        self.audiomuse.stop()

    def fakes(self) -> dict[str, str]:
        """Every fake server this demo runs, by the service it stands in for: its URL."""
        return {
            "Plex": self.services.plex_url,
            "Last.fm": self.services.lastfm_url,
            "Spotify": self.services.spotify.url,
            "AudioMuse-AI": self.audiomuse.url,
        }

    def listing(self) -> list[str]:
        """One line per fake, for a person: the service it stands in for and its URL."""
        return [f"  {name:<13} {url}" for name, url in self.fakes().items()]


def start_demo(
    *, artists: int = DEMO_ARTISTS, seed: int = DEMO_SEED, latency: float = 0.02, port: int = 0
) -> Demo:
    """Generate the demo library and serve it; ``port`` (if not 0) is Plex's, the others
    follow it."""
    library = generate_library(artists=artists, seed=seed, now=datetime.now(UTC))
    services = start_demo_services(
        library,
        plex_port=port,
        lastfm_port=port + 1 if port else 0,
        spotify_port=port + 2 if port else 0,
        latency=latency,
    )
    token = secrets.token_urlsafe(20)
    audiomuse = FakeAudioMuse(library, token=token, port=port + 3 if port else 0, latency=latency)
    try:
        audiomuse.start()
    except BaseException:
        services.stop()
        raise
    return Demo(services, audiomuse, token)


def demo_settings(demo: Demo) -> dict[str, str]:
    """The environment that points Playlister at the running fakes."""
    return {
        **provider_settings(demo.services),
        "PLAYLISTER_AUDIOMUSE_URL": demo.audiomuse.url,
        "PLAYLISTER_AUDIOMUSE_TOKEN": demo.audiomuse_token,
    }


def provider_settings(services: DemoServices) -> dict[str, str]:
    """The environment that points Playlister at fake Plex, Last.fm and Spotify."""
    return {
        "PLAYLISTER_PLEX_URL": services.plex_url,
        "PLAYLISTER_PLEX_TOKEN": services.plex_token,
        "PLAYLISTER_LASTFM_URL": services.lastfm_url,
        "PLAYLISTER_LASTFM_API_KEY": services.lastfm_api_key,
        "PLAYLISTER_SPOTIFY_TOKEN_URL": services.spotify_token_url,
        "PLAYLISTER_SPOTIFY_API_URL": services.spotify_api_url,
        "PLAYLISTER_SPOTIFY_CLIENT_ID": services.spotify_client_id,
        "PLAYLISTER_SPOTIFY_CLIENT_SECRET": services.spotify_client_secret,
    }


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Write ``NAME=value`` lines readable by django-environ, for this user only."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in values.items()), "utf-8")
