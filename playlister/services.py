"""Playlist services: generate a window's playlist or the custom playlists and write them to
Plex, keeping each one (and its tracks) in the database for history and exclusions."""

from __future__ import annotations

import hashlib
import random
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from enrichment.models import ArtistCache
from enrichment.names import normalize_name, normalize_tag
from enrichment.plex import PlexLibrary, connect
from jobs.cancel import NEVER, CancelToken
from jobs.progress import NULL_PROGRESS, Progress
from playlister import candidates as cands
from playlister import scoring
from playlister.models import CustomPlaylist, Playlist, PlaylistTrack, Strategy
from playlister.plex import PlaylistPlex, TrackInfo
from playlister.selection import Candidate, Selection, select
from playlister.windows import WINDOWS, Window

TARGET_SIZE = 50
EXCLUDE_DAYS = 7
FALLBACK_POOL = 300


@dataclass
class PlaylistResult:
    """One playlist that was (or, in a dry run, would have been) written."""

    window: str
    title: str
    tracks: int = 0
    duration_ms: int = 0
    candidates: int = 0
    explored: int = 0
    relaxed: bool = False
    seed: int = 0
    plex_key: str = ""
    plex_requests: int = 0
    dry_run: bool = False
    summary: str = ""


@dataclass
class CustomResult:
    playlists: list[PlaylistResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def default_seed(window: str, now: datetime) -> int:
    """The same window on the same day gives the same playlist (re-running is stable)."""
    digest = hashlib.sha256(f"{window}:{now.date().isoformat()}".encode()).hexdigest()
    return int(digest[:12], 16)


def format_duration(ms: int) -> str:
    minutes = round(ms / 60000)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def summary_line(*, count: int, duration_ms: int, label: str, now: datetime) -> str:
    """ "50 tracks • 3h 24m • Morning • Updated 2026-11-29 05:00" (local time)."""
    local = now.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return (
        f"{count} tracks • {format_duration(duration_ms)} • {label} • "
        f"Updated {local:%Y-%m-%d %H:%M}"
    )


def _excluded(window: str, now: datetime) -> set[str]:
    """Tracks placed in another playlist during the last week."""
    return set(
        PlaylistTrack.objects.filter(
            playlist__generated_at__gte=now - timedelta(days=EXCLUDE_DAYS),
            playlist__dry_run=False,
        )
        .exclude(playlist__window=window)
        .values_list("rating_key", flat=True)
    )


def _plex(cancel: CancelToken) -> PlaylistPlex:
    cancel.raise_if_cancelled()
    return PlaylistPlex(PlexLibrary(connect()))


def _window_candidates(
    window: Window, plex: PlaylistPlex, *, now: datetime, progress: Progress, cancel: CancelToken
) -> list[Candidate]:
    spec = WINDOWS[window]
    if window in (Window.MORNING, Window.AFTERNOON, Window.EVENING):
        plays = plex.plays(since=now - timedelta(days=cands.DAILY_DAYS), cancel=cancel)
        progress.advance(1, message=f"{len(plays)} plays in the last {cands.DAILY_DAYS} days")
        grouped = cands.plays_in_window(plays, spec)
        tracks = {t.rating_key: t for t in plex.tracks(sorted(grouped), cancel=cancel)}
        fallback: list[TrackInfo] = []
        if len(grouped) < 2 * TARGET_SIZE:
            fallback = plex.top_tracks(
                "userRating:desc", limit=FALLBACK_POOL, cancel=cancel
            ) + plex.top_tracks("viewCount:desc", limit=FALLBACK_POOL, cancel=cancel)
        index = cands.TagIndex.load([*tracks.values(), *fallback])
        found = cands.daily_candidates(
            grouped=grouped, tracks=tracks, fallback=fallback, index=index, now=now
        )
        return cands.lean_to_profile(found, window, spec)
    if window is Window.DISCOVERY:
        everything = plex.all_tracks(cancel=cancel)
        progress.advance(1, message=f"{len(everything)} tracks in the library")
        index = cands.TagIndex.load(everything)
        return cands.discovery_candidates(everything, index=index, now=now)
    plays = plex.plays(since=now - timedelta(days=5 * 365), until=now - timedelta(days=2 * 365))
    progress.advance(1, message=f"{len(plays)} plays two to five years ago")
    counts = Counter(p.rating_key for p in plays)
    tracks = {t.rating_key: t for t in plex.tracks(sorted(counts), cancel=cancel)}
    index = cands.TagIndex.load(tracks.values())
    return cands.throwback_candidates(plays_then=counts, tracks=tracks, index=index, now=now)


def _write(
    *,
    plex: PlaylistPlex,
    window: str,
    title: str,
    label: str,
    selection: Selection,
    seed: int,
    now: datetime,
    dry_run: bool,
    custom: CustomPlaylist | None,
    cancel: CancelToken,
) -> PlaylistResult:
    tracks = selection.tracks
    duration = sum(c.duration_ms for c in tracks)
    summary = summary_line(count=len(tracks), duration_ms=duration, label=label, now=now)
    result = PlaylistResult(
        window=window,
        title=title,
        tracks=len(tracks),
        duration_ms=duration,
        explored=selection.explored,
        relaxed=selection.relaxed,
        seed=seed,
        dry_run=dry_run,
        summary=summary,
    )
    if dry_run or not tracks:
        return result
    cancel.raise_if_cancelled()  # the last checkpoint: after this, Plex and the rows agree
    result.plex_key = plex.replace_playlist(
        title=title, summary=summary, rating_keys=[c.rating_key for c in tracks]
    )
    with transaction.atomic():
        playlist = Playlist.objects.create(
            window=window,
            custom=custom,
            title=title,
            summary=summary,
            plex_key=result.plex_key,
            generated_at=now,
            track_count=len(tracks),
            duration_ms=duration,
            seed=seed,
        )
        PlaylistTrack.objects.bulk_create(
            PlaylistTrack(
                playlist=playlist,
                position=i,
                rating_key=c.rating_key,
                title=c.title[:500],
                artist=c.artist[:500],
                genre=c.genre[:100],
                score=c.score,
            )
            for i, c in enumerate(tracks, start=1)
        )
        # Cache entries that feed playlists are refreshed first (cache-refresh's hot tier).
        ArtistCache.objects.filter(normalized_name__in={c.artist for c in tracks}).update(
            last_used_at=now
        )
    return result


def generate_playlist(
    *,
    window: str,
    dry_run: bool = False,
    seed: int | None = None,
    target: int = TARGET_SIZE,
    now: datetime | None = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> PlaylistResult:
    """Build the playlist of ``window`` and replace the previous one in Plex."""
    which = Window(window)
    spec = WINDOWS[which]
    now = now or timezone.now()
    seed = default_seed(which, now) if seed is None else seed
    progress.start(4, f"Reading Plex for the {spec.label.lower()} playlist")
    plex = _plex(cancel)
    found = _window_candidates(which, plex, now=now, progress=progress, cancel=cancel)
    cancel.raise_if_cancelled()
    excluded = _excluded(which, now)
    found = [c for c in found if c.rating_key not in excluded]
    progress.advance(1, message=f"Choosing {target} of {len(found)} candidates")
    selection = select(found, target=target, rng=random.Random(seed))
    progress.advance(1, message=f"Writing {len(selection.tracks)} tracks to Plex")
    result = _write(
        plex=plex,
        window=which,
        title=spec.title,
        label=spec.label,
        selection=selection,
        seed=seed,
        now=now,
        dry_run=dry_run,
        custom=None,
        cancel=cancel,
    )
    result.candidates = len(found)
    progress.finish(f"{result.tracks} tracks in {spec.title!r}")
    return result


def _custom_score(strategy: str, track: TrackInfo, now: datetime, rng: random.Random) -> float:
    days = None if track.last_viewed_at is None else (now - track.last_viewed_at).days
    quality = 0.7 * scoring.rating_score(track.user_rating) + 0.3 * scoring.play_count_score(
        track.view_count
    )
    if strategy == Strategy.QUALITY:
        return quality
    if strategy == Strategy.DISCOVERY:
        return scoring.discovery_score(days_absent=days, user_rating=track.user_rating)
    if strategy == Strategy.THROWBACK:
        return scoring.throwback_score(plays_then=track.view_count, user_rating=track.user_rating)
    recent = 0.0 if days is None else scoring.recency(days)
    return 0.5 * quality + 0.3 * recent + 0.2 * rng.random()


def generate_custom_playlists(
    *,
    dry_run: bool = False,
    seed: int | None = None,
    now: datetime | None = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> CustomResult:
    """Build every enabled custom playlist: only tracks with one of its genres (and moods)."""
    now = now or timezone.now()
    playlists = list(CustomPlaylist.objects.filter(enabled=True))
    outcome = CustomResult()
    progress.start(len(playlists) + 1, "Reading the library")
    if not playlists:
        progress.finish("No enabled custom playlists")
        return outcome
    plex = _plex(cancel)
    everything = plex.all_tracks(cancel=cancel)
    index = cands.TagIndex.load(everything)
    tagged = [(t, *index.tags(t)) for t in everything]
    progress.advance(1, message=f"{len(everything)} tracks in the library")
    for custom in playlists:
        cancel.raise_if_cancelled()
        window = f"custom:{custom.name}"
        run_seed = default_seed(window, now) if seed is None else seed
        rng = random.Random(run_seed)
        genres = {normalize_tag(g) for g in custom.genres}
        moods = {normalize_tag(m) for m in custom.moods}
        found = [
            Candidate(
                rating_key=t.rating_key,
                artist=normalize_name(t.artist),
                score=_custom_score(custom.strategy, t, now, rng),
                genre=next((g for g in t_genres if g in genres), t_genres[0] if t_genres else ""),
                title=t.title,
                duration_ms=t.duration_ms,
            )
            for t, t_genres, t_moods in tagged
            if (not genres or genres & set(t_genres)) and (not moods or moods & set(t_moods))
        ]
        if not found:
            outcome.skipped.append(custom.name)
            progress.advance(1, message=f"{custom.name}: no matching tracks")
            continue
        # A genre playlist is one genre by definition: the genre share limit does not apply.
        selection = select(
            found,
            target=custom.target_size,
            rng=rng,
            max_genre_share=1.0 if genres else 0.4,
        )
        result = _write(
            plex=plex,
            window=window,
            title=custom.name,
            label=custom.get_strategy_display(),
            selection=selection,
            seed=run_seed,
            now=now,
            dry_run=dry_run,
            custom=custom,
            cancel=cancel,
        )
        result.candidates = len(found)
        outcome.playlists.append(result)
        progress.advance(1, message=f"{custom.name}: {result.tracks} tracks")
    progress.finish(f"{len(outcome.playlists)} custom playlists written")
    return outcome
