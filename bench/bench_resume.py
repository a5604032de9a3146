"""Issue 15: a cache-warm stopped at 90 % redoes ≤ 2 % of its items when it resumes.

The fakes (Plex and Last.fm, out of process; Spotify off, so every artist costs exactly one
Last.fm request) answer after ``LATENCY``. A ``cache-warm --force`` (``skip_cached`` off: the
cache cannot hide a redo) runs through the worker's code path in this process (claim,
tracker, runner) and is stopped once 90 % of its artists are counted:

* a graceful stop (the worker shuts down: ``WorkerShutdown``) → requeued → claimed again;
* a person's cancel → ``retry`` (a new run continuing the cancelled one's cursor).

Items redone = Last.fm requests over both runs minus artists; the figure is that share of the
library (without checkpoints the resumed run would redo 90 %).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bench.common import Context, FakeProviders, FakeSpec, Row, Table, settle_queue, sized
from jobs.progress import NullProgress

if TYPE_CHECKING:
    from jobs.cancel import CancelEvent
    from jobs.models import JobRun

LATENCY = 0.02
CONCURRENCY = 4
STOP_AT = 0.9
GOAL = 0.02
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class _StopAt(NullProgress):
    """A listener beside the tracker that stops the run once ``at`` items are counted."""

    def __init__(self, token: CancelEvent, at: int, *, graceful: bool) -> None:
        self.token, self.at, self.graceful, self.done = token, at, graceful, 0

    def advance(self, n: int = 1, message: str | None = None, source: Any = None) -> None:
        from jobs.cancel import WorkerShutdown

        self.done += n
        if self.done >= self.at and not self.token.cancelled:
            if self.graceful:
                self.token.stop(WorkerShutdown())
            else:
                self.token.cancel()


def _claim(expected: int) -> JobRun:
    from jobs import services

    job = services.claim_next()
    if job is None or job.pk != expected:
        raise RuntimeError(f"claimed {job} instead of job {expected}")
    return job


def _case(fakes: FakeProviders, artists: int, *, graceful: bool) -> Row:
    from django.test import override_settings

    from enrichment.models import ArtistCache
    from jobs import services
    from jobs.cancel import CancelEvent
    from jobs.checkpoint import Checkpoint
    from jobs.models import JobStatus
    from jobs.runner import execute

    settle_queue()
    ArtistCache.objects.all().delete()
    fakes.reset("lastfm")
    configured = {
        **fakes.settings,
        "PLAYLISTER_SPOTIFY_CLIENT_ID": "",
        "PLAYLISTER_LASTFM_RATE": 1000.0,
        "PLAYLISTER_HTTP_TIMEOUT": 5.0,
    }
    params = {"concurrency": CONCURRENCY, "skip_cached": False}
    with override_settings(**configured):
        job = services.enqueue(job_type="cache-warm", params=params)
        token = CancelEvent()
        stopper = _StopAt(token, int(artists * STOP_AT), graceful=graceful)
        first = execute(_claim(job.pk), token=token, listener=stopper)
        expected = JobStatus.QUEUED if graceful else JobStatus.CANCELLED
        if first.status != expected:
            raise RuntimeError(f"the stopped warm is {first.status}, not {expected}")
        saved = Checkpoint.from_json(first.checkpoint)
        asked_first = fakes.count("lastfm")
        again = first if graceful else services.retry_job(job_id=first.pk)
        done = execute(_claim(again.pk))
    if done.status != JobStatus.SUCCESS:
        raise RuntimeError(f"the resumed warm ended {done.status}: {done.error}")
    asked = fakes.count("lastfm")
    redone = asked - artists
    share = redone / artists
    how = "graceful stop → requeue" if graceful else "cancel → retry"
    return Row(
        figure=f"items redone, {how}",
        value=share * 100,
        unit="% of items",
        anchor="0 redone (90 % without checkpoints)",
        ratio=share,
        auto_ratio=False,
        versus=f"{share:.3f}",
        goal=f"≤ {GOAL}",
        met=share <= GOAL,
        note=(
            f"{artists} artists; stopped at {asked_first} Last.fm requests, checkpoint at "
            f"{saved.current if saved else 0}; {asked - asked_first} asked after it, "
            f"{redone} of them again"
        ),
    )


def run(ctx: Context) -> list[Table]:
    artists = sized(1000, 100)
    spec = FakeSpec(artists=artists, seed=5, now_iso=NOW.isoformat(), latency=LATENCY)
    with FakeProviders(spec) as fakes:
        total = int(fakes.info["artists"])
        rows = [_case(fakes, total, graceful=True), _case(fakes, total, graceful=False)]
    settle_queue()  # the tickets the requeue and the retry pushed: no cluster takes them
    return [
        Table(
            bench="resume",
            title=(
                f"cache-warm --force stopped at {STOP_AT:.0%} and resumed, concurrency "
                f"{CONCURRENCY}, fakes at {LATENCY * 1000:.0f} ms"
            ),
            mode=ctx.mode,
            rows=rows,
        )
    ]
