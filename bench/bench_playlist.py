"""Issues 5 and 14: a daily mix from a 100,000-track library with 50,000 plays.

``generate_playlist(window="evening")`` against a fake Plex (in its own process, no added
latency) serving a generated library of ~100,000 tracks and 50,000 plays: the time it took
and every request Plex received, by endpoint, for the first generation (which creates the
Plex playlist) and the next one (which replaces its items in place). Goals (issue 14): at
most 1.5 s and 20 Plex requests each. The runs write the playlist (to the fake Plex and the
database) like real ones.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bench.common import Context, FakeProviders, FakeSpec, Row, Table, sized

NOW = datetime(2026, 11, 1, 19, 0, tzinfo=UTC)
ARTISTS = 4000  # ~25 tracks each
PLAYS = 50_000
GOAL_SECONDS = 1.5
GOAL_REQUESTS = 20


def run(ctx: Context) -> list[Table]:
    from django.test import override_settings

    from playlister.services import generate_playlist

    plays = sized(PLAYS, 1000)
    spec = FakeSpec(
        artists=sized(ARTISTS, 100), seed=1, now_iso=NOW.isoformat(), plays=plays, demo=False
    )
    rows: list[Row] = []
    with FakeProviders(spec) as fakes, override_settings(**fakes.settings):
        for run_name, seed in (("first", 1), ("next, in place", 2)):
            fakes.reset()
            started = time.perf_counter()
            result = generate_playlist(window="evening", now=NOW, seed=seed)
            seconds = time.perf_counter() - started
            requests = fakes.count()
            if result.tracks == 0:
                raise RuntimeError("the evening mix came out empty")
            detail = ", ".join(f"{name} {n}" for name, n in sorted(fakes.by_endpoint().items()))
            rows += [
                Row(
                    figure=f"generate_playlist(window='evening'), {run_name}",
                    value=seconds,
                    unit="s",
                    goal=f"≤ {GOAL_SECONDS} s",
                    met=seconds <= GOAL_SECONDS,
                    note=(
                        f"{result.tracks} tracks chosen from {result.candidates} candidates, "
                        "written to Plex"
                    ),
                ),
                Row(
                    figure=f"Plex requests it made, {run_name}",
                    value=float(requests),
                    unit="requests",
                    goal=f"≤ {GOAL_REQUESTS}",
                    met=requests <= GOAL_REQUESTS,
                    note=f"by endpoint: {detail}",
                ),
            ]
    tracks = int(fakes.info["tracks"])
    return [
        Table(
            bench="playlist",
            title=f"Evening mix from {tracks:,} tracks and {plays:,} plays (fake Plex)",
            mode=ctx.mode,
            rows=rows,
        )
    ]
