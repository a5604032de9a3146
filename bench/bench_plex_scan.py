"""7. Plex requests per artist when scanning 1,000 and 10,000 artists.

``warm_artist_cache`` with only Plex configured (a dry run: the requests are the point) over
a fake Plex in its own process, counting every request the fake received — connecting,
the paged listing and the batched full metadata. Anchor: the requests of the paged listing
alone (plexapi's ``section.search``), measured in the same run: the least any scan costs.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bench.common import Context, FakeProviders, FakeSpec, Row, Table, sized

GOAL = 0.02
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _scan(artists: int) -> Row:
    from django.test import override_settings

    from enrichment.plex import PlexLibrary, connect
    from enrichment.warm import warm_artist_cache

    spec = FakeSpec(artists=artists, seed=5, now_iso=NOW.isoformat(), plays=0, demo=False)
    with (
        FakeProviders(spec) as fakes,
        override_settings(
            **{
                **fakes.settings,
                "PLAYLISTER_LASTFM_API_KEY": "",
                "PLAYLISTER_SPOTIFY_CLIENT_ID": "",
            }
        ),
    ):
        fakes.reset()
        started = time.perf_counter()
        result = warm_artist_cache(concurrency=2, skip_cached=False, dry_run=True)
        seconds = time.perf_counter() - started
        requests = fakes.count()
        library = PlexLibrary(connect())
        fakes.reset()
        listed = len(library.artists())
        listing = fakes.count()
    if result.total != artists or listed != artists:
        raise RuntimeError(f"scanned {result.total} and listed {listed} of {artists} artists")
    per_artist = requests / artists
    return Row(
        figure=f"Plex requests per artist, {artists:,} artists",
        value=per_artist,
        unit="req/artist",
        anchor="the paged listing alone",
        anchor_value=listing / artists,
        goal=f"≤ {GOAL}",
        met=per_artist <= GOAL,
        note=f"{requests} requests in {seconds:.1f} s ({listing} for the listing)",
    )


def run(ctx: Context) -> list[Table]:
    rows = [_scan(sized(1000, 100)), _scan(sized(10_000, 500))]
    return [Table(bench="plex_scan", title="Plex requests per artist", mode=ctx.mode, rows=rows)]
