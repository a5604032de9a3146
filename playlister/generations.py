"""Recording a generation: writing the chosen tracks to the managed playlist's Plex playlist
(in place, see ``playlister.plex``) and keeping them, with why each one is there, as a
``Playlist`` and its ``PlaylistTrack`` rows. A preview (dry run) is kept the same way but
never written to Plex; only the latest ``PREVIEWS_KEPT`` previews of a playlist are kept.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from enrichment.models import ArtistCache
from jobs.cancel import NEVER, CancelToken
from jobs.results import duration_text
from playlister.models import CustomPlaylist, ManagedPlaylist, Playlist, PlaylistTrack
from playlister.plex import PlexPlaylistRef

if TYPE_CHECKING:
    from collections import Counter
    from datetime import datetime

    from playlister.plex import PlaylistPlex
    from playlister.selection import Candidate, Selection

PREVIEWS_KEPT = 5


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
    # The stored generation (a preview's too): its page is /playlists/<id>/.
    playlist_id: int | None = None
    # Candidates each exclusion rule removed, by the rule's label.
    excluded: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def note_skipped(self, *, removed_plays: int, missing_tracks: int) -> None:
        """Count what Plex's data made us skip, in numbers and in words for people."""
        self.removed_plays, self.missing_tracks = removed_plays, missing_tracks
        if removed_plays:
            self.notes.append(f"{removed_plays} plays of removed tracks ignored")
        if missing_tracks:
            self.notes.append(f"{missing_tracks} tracks not returned by Plex (see the log)")


@dataclass(frozen=True)
class Choice:
    """What a generator chose and how, ready to be written and kept."""

    key: str  # the managed playlist: "morning", "custom:<id>"
    window: str
    title: str
    label: str
    selection: Selection
    tracks: list[Candidate]  # the selection in play order (shaped)
    candidates: int
    excluded: Counter[str]
    seed: int
    custom: CustomPlaylist | None = None
    shaped: int = 0


def format_duration(ms: int) -> str:
    """A playlist's length: ``45m``, ``3h 24m``."""
    return duration_text(ms / 1000, whole_minutes=True)


def summary_line(*, count: int, duration_ms: int, label: str, now: datetime) -> str:
    """ "50 tracks • 3h 24m • Morning • Updated 2026-11-29 05:00" (local time)."""
    local = now.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return (
        f"{count} tracks • {format_duration(duration_ms)} • {label} • "
        f"Updated {local:%Y-%m-%d %H:%M}"
    )


def _managed(choice: Choice) -> ManagedPlaylist:
    """The managed playlist ``choice.key``, made on its first generation."""
    managed, _ = ManagedPlaylist.objects.get_or_create(
        key=choice.key, defaults={"title": choice.title, "custom": choice.custom}
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


def _with_file(c: Candidate, file: str) -> Candidate:
    if not file or c.track is None or c.track.file:
        return c
    return replace(c, track=replace(c.track, file=file))


def _why(c: Candidate, selection: Selection) -> dict[str, Any]:
    why = selection.why.get(c.rating_key)
    found: dict[str, Any] = {
        "parts": {name: round(value, 4) for name, value in c.parts.items()},
        "pool": str(c.pool),
        "pick": str(why.pick) if why else "",
        "relaxed": why.relaxed if why else "",
    }
    if c.fit is not None:
        found["fit"] = round(c.fit, 4)
    return found


def _track_row(
    playlist: Playlist, position: int, c: Candidate, selection: Selection
) -> PlaylistTrack:
    track = c.track
    return PlaylistTrack(
        playlist=playlist,
        position=position,
        rating_key=c.rating_key,
        title=c.title[:500],
        artist=(track.credit if track else c.artist)[:500],
        album=(track.album if track else "")[:500],
        genre=c.genre[:100],
        genres=list(c.genres),
        score=c.score,
        user_rating=track.user_rating if track else None,
        view_count=min(track.view_count, 2**31 - 1) if track else 0,
        last_viewed_at=track.last_viewed_at if track else None,
        duration_ms=min(c.duration_ms, 2**31 - 1),
        file=(track.file if track else "")[:1000],
        why=_why(c, selection),
    )


def _keep(
    choice: Choice,
    managed: ManagedPlaylist,
    tracks: list[Candidate],
    *,
    summary: str,
    plex_key: str,
    now: datetime,
    dry_run: bool,
    job_id: int | None,
) -> Playlist:
    """The generation's rows (call inside a transaction)."""
    selection = choice.selection
    playlist = Playlist.objects.create(
        managed=managed,
        window=choice.window,
        custom=choice.custom,
        title=choice.title,
        summary=summary,
        plex_key=plex_key,
        generated_at=now,
        track_count=len(tracks),
        duration_ms=sum(c.duration_ms for c in tracks),
        seed=choice.seed,
        job_id=job_id,
        dry_run=dry_run,
        candidates=choice.candidates,
        details={
            "excluded": sorted(choice.excluded.items(), key=lambda kv: (-kv[1], kv[0])),
            "limits": {
                "per_artist": selection.max_per_artist,
                "genre_share": round(selection.max_genre_share, 2),
            },
            "relaxed": selection.relaxed,
            "explored": selection.explored,
            "shaped": choice.shaped,
        },
    )
    PlaylistTrack.objects.bulk_create(
        _track_row(playlist, i, c, selection) for i, c in enumerate(tracks, start=1)
    )
    return playlist


def _prune_previews(managed: ManagedPlaylist) -> None:
    old = (
        Playlist.objects.filter(managed=managed, dry_run=True)
        .order_by("-generated_at", "-id")
        .values_list("id", flat=True)[PREVIEWS_KEPT:]
    )
    Playlist.objects.filter(id__in=list(old)).delete()


def record(
    choice: Choice,
    *,
    plex: PlaylistPlex,
    now: datetime,
    dry_run: bool,
    job_id: int | None,
    cancel: CancelToken = NEVER,
) -> PlaylistResult:
    """Write ``choice`` to its managed playlist in Plex, in place (not in a dry run), then
    keep the generation (its tracks, why each is there, the job that made it) and where the
    playlist now is."""
    tracks = choice.tracks
    duration = sum(c.duration_ms for c in tracks)
    summary = summary_line(count=len(tracks), duration_ms=duration, label=choice.label, now=now)
    result = PlaylistResult(
        window=choice.window,
        title=choice.title,
        tracks=len(tracks),
        duration_ms=duration,
        candidates=choice.candidates,
        explored=choice.selection.explored,
        relaxed=choice.selection.relaxed,
        seed=choice.seed,
        dry_run=dry_run,
        summary=summary,
        excluded=dict(choice.excluded),
    )
    if not tracks:
        return result
    managed = _managed(choice)
    if dry_run:
        with transaction.atomic():
            playlist = _keep(
                choice, managed, tracks, summary=summary, plex_key="", now=now,
                dry_run=True, job_id=job_id,
            )  # fmt: skip
            _prune_previews(managed)
        result.playlist_id = playlist.pk
        return result
    cancel.raise_if_cancelled()  # the last checkpoint: after this, Plex and the rows agree
    written = plex.write_playlist(
        target=_target(managed),
        title=choice.title,
        summary=summary,
        rating_keys=[c.rating_key for c in tracks],
    )
    result.plex_key, result.created = written.ref.rating_key, written.created
    kept = set(written.rating_keys)
    tracks = [  # less only if Plex lost some; the files as its full metadata names them
        _with_file(c, written.files.get(c.rating_key, "")) for c in tracks if c.rating_key in kept
    ]
    result.tracks = len(tracks)
    with transaction.atomic():
        ManagedPlaylist.objects.filter(pk=managed.pk).update(
            title=choice.title,
            plex_rating_key=written.ref.rating_key,
            plex_guid=written.ref.guid,
            plex_machine_identifier=written.ref.machine_identifier,
            written_at=now,
        )
        playlist = _keep(
            choice, managed, tracks, summary=summary, plex_key=written.ref.rating_key,
            now=now, dry_run=False, job_id=job_id,
        )  # fmt: skip
        # Cache entries that feed playlists are refreshed first (cache-refresh's hot tier).
        ArtistCache.objects.filter(normalized_name__in={c.artist for c in tracks}).update(
            last_used_at=now
        )
    result.playlist_id = playlist.pk
    return result
