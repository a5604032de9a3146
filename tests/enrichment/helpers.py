"""Fakes wired into settings, for enrichment tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from enrichment.demo import provider_settings
from enrichment.fakes import (
    DemoServices,
    FakeLastFm,
    Library,
    generate_library,
    start_demo_services,
)
from enrichment.fakes.models import Artist

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def library_of(artists: int, seed: int = 7, *, now: datetime = NOW, **kwargs: object) -> Library:
    return generate_library(artists=artists, seed=seed, now=now, **kwargs)  # type: ignore[arg-type]


def start(library: Library, **kwargs: object) -> DemoServices:
    return start_demo_services(library, **kwargs)  # type: ignore[arg-type]


def env_for(services: DemoServices, **extra: str) -> dict[str, str]:
    """Environment for a subprocess (CLI, cluster) pointed at the fakes."""
    return {
        **provider_settings(services),
        "PLAYLISTER_LASTFM_RATE": "200",
        "PLAYLISTER_SPOTIFY_RATE": "200",
        "PLAYLISTER_HTTP_TIMEOUT": "1",
        **extra,
    }


def configure(settings: object, services: DemoServices, **extra: object) -> None:
    """Point this process's settings at the fakes (pytest-django's ``settings`` fixture)."""
    for name, value in env_for(services).items():
        if name.endswith(("_RATE", "_TIMEOUT")):
            setattr(settings, name, float(value))
        else:
            setattr(settings, name, value)
    for extra_name, extra_value in extra.items():
        setattr(settings, extra_name, extra_value)


@contextmanager
def serving(settings: object, library: Library, **extra: object) -> Iterator[DemoServices]:
    """The fakes over ``library``, with this process's settings pointed at them."""
    with start(library) as services:
        configure(settings, services, **extra)
        yield services


def lastfm_known(
    lastfm: FakeLastFm, library: Library, count: int | None = None
) -> tuple[Artist, list[tuple[str, int]]]:
    """An artist Last.fm knows with ``count`` tags (None: more than one), and its tags."""
    for artist in library.artists:
        tags = lastfm.artist_tags(artist)
        if tags is None:
            continue
        if (count is None and len(tags) > 1) or len(tags) == count:
            return artist, tags
    raise LookupError("no such artist in the test library")
