"""Playlist services: generate a window's playlist or the custom playlists and write them to
Plex, keeping each one (and its tracks) in the database for history and exclusions.

Each window and each custom playlist is a ``ManagedPlaylist``: a generation replaces the
items of the Plex playlist it was written to before, in place (see ``playlister.plex``).
"""

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
from enrichment.names import normalize_tag
from enrichment.plex import PlexLibrary, connect
from jobs.cancel import NEVER, CancelToken
from jobs.progress import NULL_PROGRESS, Progress
from playlister import candidates as cands
from playlister import scoring
from playlister.models import CustomPlaylist, ManagedPlaylist, Playlist, PlaylistTrack, Strategy
from playlister.plex import PlaylistPlex, PlexPlaylistRef, TrackInfo
from playlister.selection import Candidate, Selection, select
from playlister.windows import DAILY, WINDOWS, Window, window_title

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
    # A new Plex playlist was made (the first generation, or ours was deleted in Plex).
    created: bool = False
    # History entries of tracks deleted since (no rating key): skipped.
    removed_plays: int = 0
    # Tracks asked of Plex by key that it did not return (named in the log).
    missing_tracks: int = 0
    notes: list[str] = field(default_factory=list)

    def note_skipped(self, *, removed_plays: int, missing_tracks: int) -> None:
        """Count what Plex's data made us skip, in numbers and in words for people."""
        self.removed_plays, self.missing_tracks = removed_plays, missing_tracks
        if removed_plays:
            self.notes.append(f"{removed_plays} plays of removed tracks ignored")
        if missing_tracks:
            self.notes.append(f"{missing_tracks} tracks not returned by Plex (see the log)")


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


def _excluded(key: str, now: datetime) -> set[str]:
    """Tracks placed in another managed playlist during the last week."""
    return set(
        PlaylistTrack.objects.filter(
            playlist__generated_at__gte=now - timedelta(days=EXCLUDE_DAYS),
            playlist__dry_run=False,
        )
        .exclude(playlist__managed__key=key)
        .values_list("rating_key", flat=True)
    )


def _plex(cancel: CancelToken) -> PlaylistPlex:
    cancel.raise_if_cancelled()
    return PlaylistPlex(PlexLibrary(connect()))


def _window_candidates(
    window: Window, plex: PlaylistPlex, *, now: datetime, progress: Progress, cancel: CancelToken
) -> tuple[list[Candidate], int]:
    """The window's candidates, and the plays of removed tracks its history held."""
    spec = WINDOWS[window]
    if window in DAILY:
        history = plex.plays(since=now - timedelta(days=cands.DAILY_DAYS), cancel=cancel)
        progress.advance(
            1, message=f"{len(history.plays)} plays in the last {cands.DAILY_DAYS} days"
        )
        grouped = cands.plays_in_window(history.plays, spec)
        tracks = {t.rating_key: t for t in plex.tracks(sorted(grouped), cancel=cancel)}
        fallback: list[TrackInfo] = []
        if len(grouped) < 2 * TARGET_SIZE:
            fallback = plex.top_tracks(
                "userRating:desc", limit=FALLBACK_POOL, cancel=cancel
            ) + plex.top_tracks("viewCount:desc", limit=FALLBACK_POOL, cancel=cancel)
        index = cands.TagIndex.load([*tracks.values(), *fallback], listing=plex.artist_names)
        found = cands.daily_candidates(
            grouped=grouped, tracks=tracks, fallback=fallback, index=index, now=now
        )
        return cands.lean_to_profile(found, window, spec), history.removed
    if window is Window.DISCOVERY:
        everything = plex.all_tracks(cancel=cancel)
        progress.advance(1, message=f"{len(everything)} tracks in the library")
        index = cands.TagIndex.load(everything, listing=plex.artist_names)
        return cands.discovery_candidates(everything, index=index, now=now), 0
    history = plex.plays(
        since=now - timedelta(days=5 * 365), until=now - timedelta(days=2 * 365), cancel=cancel
    )
    progress.advance(1, message=f"{len(history.plays)} plays two to five years ago")
    counts = Counter(p.rating_key for p in history.plays)
    tracks = {t.rating_key: t for t in plex.tracks(sorted(counts), cancel=cancel)}
    index = cands.TagIndex.load(tracks.values(), listing=plex.artist_names)
    found = cands.throwback_candidates(plays_then=counts, tracks=tracks, index=index, now=now)
    return found, history.removed


def _managed(key: str, *, title: str, custom: CustomPlaylist | None) -> ManagedPlaylist:
    """The managed playlist ``key`` ("morning", "custom:<id>"), made on its first write."""
    managed, _ = ManagedPlaylist.objects.get_or_create(
        key=key, defaults={"title": title, "custom": custom}
    )
    return managed


def _target(managed: ManagedPlaylist) -> PlexPlaylistRef | None:
    if not managed.plex_rating_key:
        return None
    return PlexPlaylistRef(
        managed.plex_rating_key,
        managed.plex_guid,
        managed.plex_machine_identifier,
        managed.title,
    )


def _write(
    *,
    plex: PlaylistPlex,
    key: str,
    window: str,
    title: str,
    label: str,
    selection: Selection,
    seed: int,
    now: datetime,
    dry_run: bool,
    custom: CustomPlaylist | None,
    job_id: int | None,
    cancel: CancelToken,
) -> PlaylistResult:
    """Write the selection to the managed playlist ``key`` in Plex, in place, then record the
    generation (its tracks, the job that made it) and where the playlist now is."""
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
    managed = _managed(key, title=title, custom=custom)
    cancel.raise_if_cancelled()  # the last checkpoint: after this, Plex and the rows agree
    written = plex.write_playlist(
        target=_target(managed),
        title=title,
        summary=summary,
        rating_keys=[c.rating_key for c in tracks],
    )
    result.plex_key, result.created = written.ref.rating_key, written.created
    kept = set(written.rating_keys)
    tracks = [c for c in tracks if c.rating_key in kept]  # less only if Plex lost some
    result.tracks = len(tracks)
    with transaction.atomic():
        ManagedPlaylist.objects.filter(pk=managed.pk).update(
            title=title,
            plex_rating_key=written.ref.rating_key,
            plex_guid=written.ref.guid,
            plex_machine_identifier=written.ref.machine_identifier,
            written_at=now,
        )
        playlist = Playlist.objects.create(
            managed=managed,
            window=window,
            custom=custom,
            title=title,
            summary=summary,
            plex_key=written.ref.rating_key,
            generated_at=now,
            track_count=len(tracks),
            duration_ms=duration,
            seed=seed,
            job_id=job_id,
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
    job_id: int | None = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> PlaylistResult:
    """Build the playlist of ``window`` and write it over the previous generation in Plex.

    ``job_id`` is the job this runs in (the runner passes it), recorded with the generation.
    """
    which = Window(window)
    spec = WINDOWS[which]
    title = window_title(which)
    now = now or timezone.now()
    seed = default_seed(which, now) if seed is None else seed
    progress.start(4, f"Reading Plex for the {spec.label.lower()} playlist")
    plex = _plex(cancel)
    found, removed = _window_candidates(which, plex, now=now, progress=progress, cancel=cancel)
    missing = plex.library.missing
    cancel.raise_if_cancelled()
    excluded = _excluded(which, now)
    found = [c for c in found if c.rating_key not in excluded]
    progress.advance(1, message=f"Choosing {target} of {len(found)} candidates")
    selection = select(found, target=target, rng=random.Random(seed))
    progress.advance(1, message=f"Writing {len(selection.tracks)} tracks to Plex")
    result = _write(
        plex=plex,
        key=which.value,
        window=which,
        title=title,
        label=spec.label,
        selection=selection,
        seed=seed,
        now=now,
        dry_run=dry_run,
        custom=None,
        job_id=job_id,
        cancel=cancel,
    )
    result.candidates = len(found)
    result.note_skipped(removed_plays=removed, missing_tracks=missing)
    progress.finish(f"{result.tracks} tracks in {title!r}")
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
    job_id: int | None = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> CustomResult:
    """Build every enabled custom playlist: only tracks with one of its genres (and moods).

    Each is written over its previous generation in Plex (renaming a custom playlist renames
    it there); ``job_id`` is recorded with each generation."""
    now = now or timezone.now()
    playlists = list(CustomPlaylist.objects.filter(enabled=True))
    outcome = CustomResult()
    progress.start(len(playlists) + 1, "Reading the library")
    if not playlists:
        progress.finish("No enabled custom playlists")
        return outcome
    plex = _plex(cancel)
    everything = plex.all_tracks(cancel=cancel)
    index = cands.TagIndex.load(everything, listing=plex.artist_names)
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
                artist=index.artist(t),
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
            key=f"custom:{custom.pk}",
            window=window,
            title=custom.name,
            label=custom.get_strategy_display(),
            selection=selection,
            seed=run_seed,
            now=now,
            dry_run=dry_run,
            custom=custom,
            job_id=job_id,
            cancel=cancel,
        )
        result.candidates = len(found)
        outcome.playlists.append(result)
        progress.advance(1, message=f"{custom.name}: {result.tracks} tracks")
    progress.finish(f"{len(outcome.playlists)} custom playlists written")
    return outcome
