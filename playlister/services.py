"""Playlist services: generate a window's playlist or the custom playlists and write them to
Plex, keeping each one (and its tracks, and why each is there) in the database for the
pages, the history and the exclusions.

Each window and each custom playlist is a ``ManagedPlaylist``: a generation replaces the
items of the Plex playlist it was written to before, in place (see ``playlister.plex``). A
dry run chooses the same way and keeps its choice as a preview, writing nothing to Plex.

On the way from candidates to a playlist every generator applies, in this order: tracks
placed in another managed playlist this week are left out; the exclusion rules
(``playlister.exclusions``) remove excluded genres; the selection picks under its limits;
the daily mixes are put in their shape (``playlister.shape``). The generation records how
many candidates each rule removed.
"""

from __future__ import annotations

import hashlib
import random
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.utils import timezone

from enrichment.names import normalize_tag
from enrichment.plex import PlexLibrary, connect
from jobs.cancel import NEVER, CancelToken
from jobs.progress import NULL_PROGRESS, Progress
from jobs.registry import JobError
from playlister import candidates as cands
from playlister import scoring
from playlister.exclusions import Exclusion, exclusion_for
from playlister.generations import Choice, PlaylistResult, record
from playlister.models import CustomPlaylist, PlaylistTrack, Strategy
from playlister.plex import PlaylistPlex, TrackInfo
from playlister.selection import Candidate, select
from playlister.shape import shape
from playlister.windows import DAILY, WINDOWS, Window, window_title

__all__ = ["CustomResult", "PlaylistResult", "generate_custom_playlists", "generate_playlist"]

TARGET_SIZE = 50
EXCLUDE_DAYS = 7
FALLBACK_POOL = 300
# Window tracks asked of Plex per round (100 per request), best history first; another
# round only when too few candidates are left after the exclusions.
DAILY_POOL = 400
PLACED_ELSEWHERE = "placed in another playlist this week"


@dataclass
class CustomResult:
    playlists: list[PlaylistResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def default_seed(window: str, now: datetime) -> int:
    """The same window on the same day gives the same playlist (re-running is stable)."""
    digest = hashlib.sha256(f"{window}:{now.date().isoformat()}".encode()).hexdigest()
    return int(digest[:12], 16)


def _placed_elsewhere(key: str, now: datetime) -> set[str]:
    """Tracks placed in another managed playlist during the last week (previews aside)."""
    return set(
        PlaylistTrack.objects.filter(
            playlist__generated_at__gte=now - timedelta(days=EXCLUDE_DAYS),
            playlist__dry_run=False,
        )
        .exclude(playlist__managed__key=key)
        .values_list("rating_key", flat=True)
    )


def _exclusion(now: datetime) -> Exclusion:
    return exclusion_for(now.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date())


def _plex(cancel: CancelToken) -> PlaylistPlex:
    cancel.raise_if_cancelled()
    return PlaylistPlex(PlexLibrary(connect()))


def _without(found: list[Candidate], skip: set[str], removed: Counter[str]) -> list[Candidate]:
    kept = [c for c in found if c.rating_key not in skip]
    if len(kept) < len(found):
        removed[PLACED_ELSEWHERE] += len(found) - len(kept)
    return kept


def _excluded_genres(found: list[Candidate], exclusion: Exclusion) -> list[Candidate]:
    return exclusion.keep(found, lambda c: c.genres)


@dataclass(frozen=True)
class _Reading:
    """What reading a window's candidates needs."""

    plex: PlaylistPlex
    now: datetime
    target: int
    skip: set[str]  # placed in another managed playlist this week
    exclusion: Exclusion
    progress: Progress
    cancel: CancelToken


def _daily(window: Window, r: _Reading) -> tuple[list[Candidate], int]:
    """A daily window's candidates (exclusions applied), and the plays of removed tracks.

    Only the window tracks the history ranks best are asked of Plex, ``DAILY_POOL`` at a
    time, until twice the playlist's size is left after the exclusions or none remain."""
    plex, now, exclusion = r.plex, r.now, r.exclusion
    history = plex.plays(since=now - timedelta(days=cands.DAILY_DAYS), cancel=r.cancel)
    r.progress.advance(1, message=f"{len(history.plays)} plays in the last {cands.DAILY_DAYS} days")
    grouped = cands.plays_in_window(history.plays, WINDOWS[window])
    placed = sum(1 for k in grouped if k in r.skip)
    if placed:
        exclusion.removed[PLACED_ELSEWHERE] += placed
    ranked = cands.rank_by_history(grouped, now=now, skip=r.skip)
    found: list[Candidate] = []
    asked = 0
    while asked < len(ranked) and len(found) < 2 * r.target:
        keys = ranked[asked : asked + DAILY_POOL]
        asked += len(keys)
        tracks = {t.rating_key: t for t in plex.tracks(keys, cancel=r.cancel)}
        index = cands.TagIndex.load(tracks.values(), listing=plex.artist_names)
        batch = cands.daily_candidates(
            grouped={k: grouped[k] for k in keys}, tracks=tracks, fallback=(), index=index,
            now=now,
        )  # fmt: skip
        found += _excluded_genres(batch, exclusion)
    if len(grouped) - placed < 2 * r.target:
        fallback = plex.top_tracks(
            "userRating:desc", limit=FALLBACK_POOL, cancel=r.cancel
        ) + plex.top_tracks("viewCount:desc", limit=FALLBACK_POOL, cancel=r.cancel)
        index = cands.TagIndex.load(fallback, listing=plex.artist_names)
        extra = cands.daily_candidates(
            grouped={}, tracks={}, fallback=fallback, index=index, now=now
        )
        fresh = {c.rating_key: c for c in extra if c.rating_key not in grouped}
        found += _excluded_genres(
            _without(list(fresh.values()), r.skip, exclusion.removed), exclusion
        )
    return found, history.removed


def _window_candidates(window: Window, r: _Reading) -> tuple[list[Candidate], int]:
    """The window's candidates with every exclusion applied, and the plays of removed
    tracks its history held."""
    if window in DAILY:
        return _daily(window, r)
    plex, now, removed = r.plex, r.now, r.exclusion.removed
    if window is Window.DISCOVERY:
        everything = plex.all_tracks(cancel=r.cancel)
        r.progress.advance(1, message=f"{len(everything)} tracks in the library")
        index = cands.TagIndex.load(everything, listing=plex.artist_names)
        found = cands.discovery_candidates(everything, index=index, now=now)
        return _excluded_genres(_without(found, r.skip, removed), r.exclusion), 0
    history = plex.plays(
        since=now - timedelta(days=5 * 365), until=now - timedelta(days=2 * 365), cancel=r.cancel
    )
    r.progress.advance(1, message=f"{len(history.plays)} plays two to five years ago")
    counts = Counter(p.rating_key for p in history.plays)
    tracks = {t.rating_key: t for t in plex.tracks(sorted(counts), cancel=r.cancel)}
    index = cands.TagIndex.load(tracks.values(), listing=plex.artist_names)
    found = cands.throwback_candidates(plays_then=counts, tracks=tracks, index=index, now=now)
    return _excluded_genres(_without(found, r.skip, removed), r.exclusion), history.removed


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
    """Build the playlist of ``window`` and write it over the previous generation in Plex
    (a dry run keeps it as a preview and writes nothing to Plex).

    ``job_id`` is the job this runs in (the runner passes it), recorded with the generation.
    """
    which = Window(window)
    spec = WINDOWS[which]
    title = window_title(which)
    now = now or timezone.now()
    seed = default_seed(which, now) if seed is None else seed
    progress.start(4, f"Reading Plex for the {spec.label.lower()} playlist")
    plex = _plex(cancel)
    exclusion = _exclusion(now)
    reading = _Reading(
        plex, now, target, _placed_elsewhere(which, now), exclusion, progress, cancel
    )
    found, removed = _window_candidates(which, reading)
    missing = plex.library.missing
    cancel.raise_if_cancelled()
    sounds = cands.sounds_of(c.rating_key for c in found) if which in DAILY else {}
    found = cands.lean_to_profile(found, which, spec, sounds)
    progress.advance(1, message=f"Choosing {target} of {len(found)} candidates")
    selection = select(found, target=target, rng=random.Random(seed))
    ordered = shape(selection.tracks, [sounds.get(c.rating_key) for c in selection.tracks], which)
    progress.advance(1, message=f"Writing {len(selection.tracks)} tracks to Plex")
    choice = Choice(
        key=which.value,
        window=which,
        title=title,
        label=spec.label,
        selection=selection,
        tracks=ordered,
        candidates=len(found),
        excluded=exclusion.removed,
        seed=seed,
        shaped=sum(1 for c in ordered if c.rating_key in sounds),
    )
    result = record(choice, plex=plex, now=now, dry_run=dry_run, job_id=job_id, cancel=cancel)
    result.note_skipped(removed_plays=removed, missing_tracks=missing)
    progress.finish(f"{result.tracks} tracks in {title!r}")
    return result


def _custom_parts(
    strategy: str, track: TrackInfo, *, now: datetime, rng: random.Random
) -> scoring.Parts:
    days = None if track.last_viewed_at is None else (now - track.last_viewed_at).days
    if strategy == Strategy.DISCOVERY:
        return scoring.discovery_parts(days_absent=days, user_rating=track.user_rating)
    if strategy == Strategy.THROWBACK:
        return scoring.throwback_parts(plays_then=track.view_count, user_rating=track.user_rating)
    quality = 0.7 * scoring.rating_score(track.user_rating) + 0.3 * scoring.play_count_score(
        track.view_count
    )
    if strategy == Strategy.QUALITY:
        return {"quality": quality}
    recent = 0.0 if days is None else scoring.recency(days)
    return {"quality": 0.5 * quality, "recency": 0.3 * recent, "chance": 0.2 * rng.random()}


def generate_custom_playlists(
    *,
    dry_run: bool = False,
    seed: int | None = None,
    custom: int | None = None,
    now: datetime | None = None,
    job_id: int | None = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> CustomResult:
    """Build every enabled custom playlist — or only the one whose id is ``custom``, enabled
    or not (a person asked for it) —: only tracks with one of its genres (and moods).

    Each is written over its previous generation in Plex (renaming a custom playlist renames
    it there); ``job_id`` is recorded with each generation."""
    now = now or timezone.now()
    chosen = CustomPlaylist.objects.all()
    chosen = chosen.filter(pk=custom) if custom is not None else chosen.filter(enabled=True)
    playlists = list(chosen)
    outcome = CustomResult()
    progress.start(len(playlists) + 1, "Reading the library")
    if not playlists:
        if custom is not None:
            raise JobError(f"There is no custom playlist with id {custom} (deleted?).")
        progress.finish("No enabled custom playlists")
        return outcome
    plex = _plex(cancel)
    everything = plex.all_tracks(cancel=cancel)
    index = cands.TagIndex.load(everything, listing=plex.artist_names)
    progress.advance(1, message=f"{len(everything)} tracks in the library")
    for playlist in playlists:
        cancel.raise_if_cancelled()
        key = f"custom:{playlist.pk}"
        window = f"custom:{playlist.name}"
        run_seed = default_seed(window, now) if seed is None else seed
        rng = random.Random(run_seed)
        genres = {normalize_tag(g) for g in playlist.genres}
        found = cands.custom_candidates(
            everything,
            index=index,
            genres=genres,
            moods={normalize_tag(m) for m in playlist.moods},
            score=partial(_custom_parts, playlist.strategy, now=now, rng=rng),
        )
        exclusion = _exclusion(now)
        found = _excluded_genres(found, exclusion)
        if not found:
            outcome.skipped.append(playlist.name)
            progress.advance(1, message=f"{playlist.name}: no matching tracks")
            continue
        # A genre playlist is one genre by definition: the genre share limit does not apply.
        selection = select(
            found,
            target=playlist.target_size,
            rng=rng,
            max_genre_share=1.0 if genres else 0.4,
        )
        choice = Choice(
            key=key,
            window=window,
            title=playlist.name,
            label=playlist.get_strategy_display(),
            selection=selection,
            tracks=selection.tracks,
            candidates=len(found),
            excluded=exclusion.removed,
            seed=run_seed,
            custom=playlist,
        )
        result = record(choice, plex=plex, now=now, dry_run=dry_run, job_id=job_id, cancel=cancel)
        outcome.playlists.append(result)
        progress.advance(1, message=f"{playlist.name}: {result.tracks} tracks")
    verb = "previewed" if dry_run else "written"
    progress.finish(f"{len(outcome.playlists)} custom playlists {verb}")
    return outcome
