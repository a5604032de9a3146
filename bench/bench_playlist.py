"""Issue 5: a daily mix from a 100,000-track library with 50,000 plays.

``generate_playlist(window="evening")`` against a fake Plex (in its own process, no added
latency) serving a generated library of ~100,000 tracks and 50,000 plays: the time it took
and every request Plex received, by endpoint. There is no goal to meet, only figures to
report; the run writes the playlist (to the fake Plex and the database) like a real one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bench.common import Context, FakeProviders, FakeSpec, Row, Table, sized

NOW = datetime(2026, 11, 1, 19, 0, tzinfo=UTC)
ARTISTS = 4000  # ~25 tracks each
PLAYS = 50_000


def run(ctx: Context) -> list[Table]:
    from django.test import override_settings

    from playlister.services import generate_playlist

    plays = sized(PLAYS, 1000)
    spec = FakeSpec(
        artists=sized(ARTISTS, 100), seed=1, now_iso=NOW.isoformat(), plays=plays, demo=False
    )
    with FakeProviders(spec) as fakes, override_settings(**fakes.settings):
        fakes.reset()
        started = time.perf_counter()
        result = generate_playlist(window="evening", now=NOW)
        seconds = time.perf_counter() - started
        requests = fakes.count()
        by_endpoint = fakes.by_endpoint()
    if result.tracks == 0:
        raise RuntimeError("the evening mix came out empty")
    tracks = int(fakes.info["tracks"])
    detail = ", ".join(f"{name} {n}" for name, n in sorted(by_endpoint.items()))
    return [
        Table(
            bench="playlist",
            title=f"Evening mix from {tracks:,} tracks and {plays:,} plays (fake Plex)",
            mode=ctx.mode,
            rows=[
                Row(
                    figure="generate_playlist(window='evening')",
                    value=seconds,
                    unit="s",
                    goal="report",
                    note=(
                        f"{result.tracks} tracks chosen from {result.candidates} candidates, "
                        "written to Plex"
                    ),
                ),
                Row(
                    figure="Plex requests it made",
                    value=float(requests),
                    unit="requests",
                    goal="report",
                    note=f"by endpoint: {detail}",
                ),
            ],
        )
    ]
