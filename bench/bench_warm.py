"""6. cache-warm throughput ÷ min(concurrency ÷ provider latency, rate limit).

The fakes (Plex and Last.fm; Spotify off, so every artist costs exactly one Last.fm request)
answer after 50 ms and run in a process of their own, like a remote service. The job runs
the CLI route (``run_direct``: a ``job_runs`` row, the tracker, the shared rate limiter) in
this process; throughput = artists ÷ the row's runtime, so Plex's listing and the cache
writes count against it.

* without a limit: ``CONCURRENCY`` threads → at most ``CONCURRENCY / 0.05`` artists/s;
* with Last.fm limited to 5 requests/s (the fake answers 429 beyond, and Playlister is
  configured with ``PLAYLISTER_LASTFM_RATE=5``): at most 5 artists/s.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench.common import Context, FakeProviders, FakeSpec, Row, Table, sized

LATENCY = 0.05
CONCURRENCY = 4
LIMIT = 5
GOAL = 0.9
# Issue 17: the limit used to the full (the spacing 8 % over 1/rate left 7 % idle) ...
LIMITED_GOAL = 0.95
# ... and never exceeded in any 1-second window, as the fake counts them.
WINDOWS_GOAL = 0
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _warm(fakes: FakeProviders, *, rate: float) -> tuple[float, int, float]:
    """Artists/s, artists, runtime (s) of one cache-warm over the fakes."""
    from django.test import override_settings

    from enrichment.models import ArtistCache
    from jobs.models import JobStatus, Trigger
    from jobs.runner import run_direct

    ArtistCache.objects.all().delete()
    configured = {
        **fakes.settings,
        "PLAYLISTER_SPOTIFY_CLIENT_ID": "",
        "PLAYLISTER_LASTFM_RATE": rate,
        "PLAYLISTER_HTTP_TIMEOUT": 5.0,
    }
    with override_settings(**configured):
        job = run_direct(
            "cache-warm", {"concurrency": CONCURRENCY, "skip_cached": False}, trigger=Trigger.CLI
        )
    if job.status != JobStatus.SUCCESS or job.started_at is None or job.finished_at is None:
        raise RuntimeError(f"cache-warm ended {job.status}: {job.error}")
    result = job.result or {}
    artists = int(result.get("total", 0))
    if result.get("failed"):
        raise RuntimeError(f"cache-warm: {result['failed']} artists failed: {result.get('errors')}")
    runtime = (job.finished_at - job.started_at).total_seconds()
    return artists / runtime, artists, runtime


def _case(ctx: Context, *, artists: int, limit: int | None) -> list[Row]:
    spec = FakeSpec(artists=artists, seed=3, now_iso=NOW.isoformat(), latency=LATENCY)
    with FakeProviders(spec) as fakes:
        if limit:
            fakes.set_rate_limit("lastfm", limit)
        rate, total, runtime = _warm(fakes, rate=float(limit) if limit else 1000.0)
        lastfm = fakes.count("lastfm")
        too_many = fakes.by_status("lastfm").get(429, 0)
        plex_at, lastfm_at = fakes.arrivals("plex"), fakes.arrivals("lastfm")
        over, most = fakes.windows_over("lastfm", limit) if limit else (0, 0)
    bound = CONCURRENCY / LATENCY
    anchor = min(bound, limit) if limit else bound
    ratio = rate / anchor
    what = f"{limit} requests/s limit" if limit else "no limit"
    # Where the time went: Plex (listing, then the full metadata, before any Last.fm call)
    # and the Last.fm phase, by the fakes' own clock.
    before = lastfm_at[0] - plex_at[0]
    phase = lastfm_at[-1] - lastfm_at[0]
    phase_rate = (len(lastfm_at) - 1) / phase if phase > 0 else 0.0
    goal = LIMITED_GOAL if limit else GOAL
    throughput = Row(
        figure=f"artists/s, {what}",
        value=rate,
        unit="artists/s",
        anchor=f"min({CONCURRENCY} ÷ {LATENCY:.2f} s{f', {limit}/s' if limit else ''})",
        anchor_value=anchor,
        ratio=ratio,
        goal=f"ratio ≥ {goal}",
        met=ratio >= goal,
        note=(
            f"{total} artists in {runtime:.2f} s; {lastfm} Last.fm requests ({too_many} answered "
            f"429) at {phase_rate:.1f}/s over {phase:.2f} s, the first {before:.2f} s after Plex's "
            "first request"
        ),
    )
    if not limit:
        return [throughput]
    windows = Row(
        figure=f"1-second windows above the limit, {what}",
        value=over,
        unit="windows",
        anchor=f"{len(lastfm_at)} windows, one from each Last.fm request (the fake's count)",
        auto_ratio=False,
        versus=f"{over} of {len(lastfm_at)}",
        goal=f"= {WINDOWS_GOAL}",
        met=over <= WINDOWS_GOAL,
        note=(
            f"most requests in any 1-second window: {most} (limit {limit}); the closest "
            f"{limit + 1} consecutive requests arrived {_closest(lastfm_at, limit):.3f} s apart"
        ),
    )
    return [throughput, windows]


def _closest(times: list[float], limit: int) -> float:
    """The shortest span of ``limit + 1`` consecutive arrivals (≥ 1 s: within the limit)."""
    spans = [b - a for a, b in zip(times, times[limit:], strict=False)]
    return min(spans, default=float("inf"))


def run(ctx: Context) -> list[Table]:
    # The limited case first: the limiter's ring is the provider's, shared by both cases,
    # and after the unlimited case's 75 requests/s the limited one would first wait out
    # their last window (0.5 s of a 12 s run in the scaled mode) — a wait the limit itself
    # does not cause.
    limited = _case(ctx, artists=sized(60, 10), limit=LIMIT)
    rows = [*_case(ctx, artists=sized(600, 40), limit=None), *limited]
    return [
        Table(
            bench="warm",
            title=(
                f"cache-warm, concurrency {CONCURRENCY}, fakes at {LATENCY * 1000:.0f} ms "
                "(Plex + Last.fm, out of process)"
            ),
            mode=ctx.mode,
            rows=rows,
        )
    ]
