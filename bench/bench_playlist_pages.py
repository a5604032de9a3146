"""Issue 14: the Playlists page and a generation's page (200 tracks), p95.

The database holds what a year of use leaves: the five windows and five custom playlists,
each with a year of generations (daily mixes 365, the others 52) of 50 tracks with their
reasons, previews, the default schedules, and a playlist job running and one queued. The
generation measured has 200 tracks and a previous generation to compare with. Requests go
through Django's test ``Client`` in-process, logged in (see ``bench_dashboard``).

Anchor: ``GET /health`` through the same client in the same run. Goal: p95 < 50 ms each.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from bench.bench_dashboard import GOAL_MS, REPS, _client, _timed
from bench.common import Context, Row, Table, p95_row
from playlister.windows import DAILY, Window

if TYPE_CHECKING:
    from playlister.models import ManagedPlaylist, PlaylistTrack

WINDOWS = tuple(Window)
CUSTOMS = 5
TRACKS = 50
BIG = 200


def _tracks(playlist_id: int, count: int, rng: random.Random) -> list[PlaylistTrack]:
    from playlister.models import PlaylistTrack

    return [
        PlaylistTrack(
            playlist_id=playlist_id,
            position=n,
            rating_key=str(rng.randrange(1000, 120_000)),
            title=f"Track {n}",
            artist=f"Artist {rng.randrange(4000)}",
            album=f"Album {rng.randrange(8000)}",
            genre="rock",
            genres=["rock", "indie rock"],
            score=rng.random(),
            user_rating=rng.choice([None, 6.0, 8.0, 10.0]),
            view_count=rng.randrange(40),
            duration_ms=rng.randrange(95_000, 420_000),
            file=f"/music/Artist/Album/{n:02d} - Track.flac",
            why={
                "parts": {"recency": rng.random() * 0.7, "quality": rng.random() * 0.3},
                "pool": "history",
                "pick": rng.choice(["top", "top", "exploration"]),
                "relaxed": "",
                "fit": rng.random(),
            },
        )
        for n in range(1, count + 1)
    ]


def _generations(managed: ManagedPlaylist, count: int, rng: random.Random) -> list[int]:
    from django.utils import timezone

    from playlister.models import Playlist, PlaylistTrack

    now = timezone.now()
    step = timedelta(days=365) / count
    rows = Playlist.objects.bulk_create(
        Playlist(
            managed=managed,
            window=managed.key,
            title=managed.title,
            generated_at=now - step * (count - i),
            track_count=TRACKS,
            duration_ms=TRACKS * 240_000,
            job_id=i + 1,
            dry_run=i % 30 == 29,
            candidates=400,
            details={"excluded": [["christmas", 3]], "limits": {"per_artist": 2}},
        )
        for i in range(count)
    )
    tracks: list[PlaylistTrack] = []
    for row in rows:
        tracks += _tracks(row.pk, TRACKS, rng)
        if len(tracks) >= 5000:
            PlaylistTrack.objects.bulk_create(tracks)
            tracks = []
    PlaylistTrack.objects.bulk_create(tracks)
    return [row.pk for row in rows]


def _fill() -> int:
    """The year of history; the id of the 200-track generation measured."""
    from django.db import transaction
    from django.utils import timezone

    from jobs import services
    from jobs.schedules.services import install_defaults
    from playlister.models import CustomPlaylist, ManagedPlaylist, Playlist, PlaylistTrack

    rng = random.Random(14)
    # Another benchmark of this run (``playlist``) may have left its generations.
    Playlist.objects.all().delete()
    ManagedPlaylist.objects.all().delete()
    CustomPlaylist.objects.all().delete()
    install_defaults()
    with transaction.atomic():
        managed = [ManagedPlaylist.objects.create(key=w, title=w.title()) for w in WINDOWS]
        for n in range(CUSTOMS):
            custom = CustomPlaylist.objects.create(name=f"Custom {n}", genres=["rock"])
            managed.append(
                ManagedPlaylist.objects.create(key=f"custom:{custom.pk}", title=custom.name)
            )
        for m in managed:
            _generations(m, 365 if m.key in DAILY else 52, rng)
        big = Playlist.objects.create(
            managed=managed[2],
            window="evening",
            title="Evening",
            generated_at=timezone.now(),
            track_count=BIG,
            duration_ms=BIG * 240_000,
            candidates=2000,
        )
        PlaylistTrack.objects.bulk_create(_tracks(big.pk, BIG, rng))
        services.enqueue(job_type="playlist", params={"window": "morning"})
        services.enqueue(job_type="playlist", params={"window": "evening", "dry_run": True})
    return big.pk


def run(ctx: Context) -> list[Table]:
    from playlister.models import PlaylistTrack

    started = time.perf_counter()
    big = _fill()
    filled = f"filling took {time.perf_counter() - started:.0f} s"
    client = _client()
    pages = [
        ("Playlists page", "/playlists/", {}),
        ("a card (polled)", "/playlists/card/morning", {"HTTP_HX_REQUEST": "true"}),
        (f"generation page, {BIG} tracks", f"/playlists/{big}/", {}),
    ]
    for _, path, headers in pages:
        _timed(client, path, 3, **headers)
    floor = _timed(client, "/health", REPS)
    rows: list[Row] = []
    for name, path, headers in pages:
        times = _timed(client, path, REPS, **headers)
        rows.append(p95_row(f"{name} p95", times, floor, goal_ms=GOAL_MS))
    tracks = PlaylistTrack.objects.count()
    return [
        Table(
            bench="playlist_pages",
            title=f"Playlists page and a generation page ({tracks:,} generation tracks stored)",
            mode=ctx.mode,
            rows=rows,
            notes=[filled],
        )
    ]
