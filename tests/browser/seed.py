"""Runs of every job type as a real library leaves them, for the pages that show them.

Each finished run carries the result its service stores (the dataclass as JSON), failures
with reasons included; a failed run has the log lines and traceback the runner keeps; one
run is still going from a terminal and one waits for its next attempt. None of them is due,
so a cluster running meanwhile claims nothing.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from jobs.models import JobLogLine, JobRun, JobStatus, Trigger
from jobs.schedules import services as schedules
from tests.factories import JobRunFactory

WARM = {
    "total": 1284,
    "cached": 950,
    "plex": 201,
    "lastfm": 97,
    "spotify": 12,
    "artist": 0,
    "failed": 3,
    "empty": 21,
    "written": 310,
    "provider_requests": 452,
    "dry_run": False,
    "errors": [
        "Orky: Last.fm: HTTP 503",
        "Live: 1979 & Friends: Spotify: timed out after 10s",
        "Zoë & the Owls: Plex: reading metadata failed (ConnectionError)",
    ],
}
ALBUMS_ALL_CACHED = {**WARM, "total": 300, "cached": 300, "plex": 0, "lastfm": 0, "spotify": 0}
ALBUMS_ALL_CACHED.update(failed=0, empty=0, written=0, provider_requests=2, errors=[])
SYNC = {
    "listed": 2210,
    "fetched": 64,
    "created": 40,
    "updated": 24,
    "deleted": 7,
    "unchanged": 2139,
    "dry_run": False,
}
PLAYLIST = {
    "window": "morning",
    "title": "🌅 Daily Morning Mix",
    "tracks": 50,
    "duration_ms": 12_247_000,
    "candidates": 412,
    "explored": 3,
    "relaxed": False,
    "seed": 204_391_234_112,
    "plex_key": "90211",
    "plex_requests": 14,
    "dry_run": False,
    "summary": "50 tracks • 3h 24m • Morning • Updated 2026-12-01 05:00",
    "created": False,
    "removed_plays": 12,
    "missing_tracks": 0,
    "notes": ["12 plays of removed tracks ignored"],
    "playlist_id": 7,
}
CUSTOM = {
    "playlists": [
        {**PLAYLIST, "window": "custom:Late Jazz", "title": "Late Jazz • Slow", "tracks": 30,
         "duration_ms": 7_020_000, "notes": [], "playlist_id": 8},
        {**PLAYLIST, "window": "custom:北京 Rock", "title": "北京 Rock", "tracks": 25,
         "duration_ms": 5_400_000, "notes": ["2 tracks not returned by Plex (see the log)"],
         "playlist_id": 9},
    ],
    "skipped": ["Polka Night"],
}  # fmt: skip
CONFIG_ERROR = (
    "ProviderConfigError: Last.fm: PLAYLISTER_LASTFM_API_KEY is not set (get one at last.fm/api)"
)
TRACEBACK = (
    "job {pk} (cache-refresh) failed\n"
    "Traceback (most recent call last):\n"
    '  File "jobs/runner.py", line 262, in _run\n'
    "    value = spec.func(**job.params, **job_kwargs, progress=progress, cancel=token)\n"
    "enrichment.http.ProviderConfigError: Last.fm: PLAYLISTER_LASTFM_API_KEY is not set"
)


@dataclass
class Seeded:
    """The runs by what they show."""

    warm: JobRun
    albums: JobRun
    refresh_failed: JobRun
    sync: JobRun
    playlist: JobRun
    custom: JobRun
    cancelled: JobRun
    running_cli: JobRun
    waiting: JobRun

    @property
    def finished_of_each_type(self) -> list[JobRun]:
        return [
            self.warm,
            self.albums,
            self.refresh_failed,
            self.sync,
            self.playlist,
            self.custom,
        ]


def _finished(job_type: str, *, minutes_ago: float, seconds: float, **kwargs: object) -> JobRun:
    end = timezone.now() - timedelta(minutes=minutes_ago)
    kwargs.setdefault("window", job_type)
    return JobRunFactory.create(
        job_type=job_type,
        status=kwargs.pop("status", JobStatus.SUCCESS),
        queued_at=end - timedelta(seconds=seconds + 2),
        run_after=end - timedelta(seconds=seconds + 2),
        started_at=end - timedelta(seconds=seconds),
        finished_at=end,
        attempt=1,
        max_attempts=3,
        worker="music-box:4242",
        **kwargs,
    )


def seed() -> Seeded:
    warm_params = {"concurrency": 2, "skip_cached": True, "dry_run": False, "limit": None}
    warm = _finished(
        "cache-warm",
        minutes_ago=50,
        seconds=1_204,
        trigger=Trigger.SCHEDULE,
        params=warm_params,
        result=WARM,
        source_counts={"plex": 201, "lastfm": 97, "spotify": 12, "cached": 950, "failed": 3},
        progress_current=1284,
        progress_total=1284,
        progress_message="310 artists cached, 3 failed",
    )
    albums = _finished(
        "cache-albums", minutes_ago=45, seconds=3, params=warm_params, result=ALBUMS_ALL_CACHED
    )
    refresh_failed = _finished(
        "cache-refresh",
        minutes_ago=40,
        seconds=0.4,
        status=JobStatus.FAILED,
        params={"limit": 200, "concurrency": 2, "dry_run": False},
        error=CONFIG_ERROR,
    )
    JobLogLine.objects.create(
        job=refresh_failed,
        attempt=1,
        created=refresh_failed.finished_at or timezone.now(),
        level=40,
        logger="jobs.runner",
        message=TRACEBACK.format(pk=refresh_failed.pk),
    )
    sync = _finished(
        "audiomuse-sync",
        minutes_ago=30,
        seconds=95,
        trigger=Trigger.CLI,
        params={"dry_run": False},
        result=SYNC,
    )
    playlist = _finished(
        "playlist",
        minutes_ago=20,
        seconds=41,
        window="morning",
        params={"window": "morning", "dry_run": False, "seed": None},
        result=PLAYLIST,
    )
    custom = _finished(
        "custom-playlists", minutes_ago=10, seconds=73, params={"dry_run": False}, result=CUSTOM
    )
    cancelled = _finished(
        "playlist",
        minutes_ago=5,
        seconds=2,
        status=JobStatus.CANCELLED,
        window="discovery",
        params={"window": "discovery", "dry_run": True, "seed": 42},
        error="Cancelled (Ctrl+C)",
    )
    now = timezone.now()
    # Held by this very process, so that no rescue takes it for a dead worker's.
    running_cli = JobRunFactory.create(
        job_type="cache-warm",
        status=JobStatus.RUNNING,
        direct=True,
        trigger=Trigger.CLI,
        params=warm_params,
        attempt=1,
        started_at=now - timedelta(seconds=20),
        heartbeat_at=now,
        queued_at=now - timedelta(seconds=20),
        worker=f"{socket.gethostname()}:{os.getpid()}",
        progress_current=480,
        progress_total=1284,
        progress_message="Orky",
        source_counts={"plex": 120, "lastfm": 40, "cached": 300},
    )
    waiting = JobRunFactory.create(
        job_type="audiomuse-sync",
        status=JobStatus.QUEUED,
        params={"dry_run": False},
        attempt=1,
        max_attempts=5,
        queued_at=now - timedelta(minutes=2),
        run_after=now + timedelta(hours=2),
        error="Attempt 1 of 5 failed: AudioMuse-AI: HTTP 503 — next attempt later",
    )
    schedules.install_defaults()
    return Seeded(
        warm, albums, refresh_failed, sync, playlist, custom, cancelled, running_cli, waiting
    )
