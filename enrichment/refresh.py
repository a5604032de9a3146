"""``cache-refresh``: re-fetch cache entries before they go stale, most used first.

Tiers (by when a playlist last used the entry, and how old it is):
hot — used in the last 30 days, cached more than 60 days ago;
warm — used 30 to 180 days ago, cached more than 120 days ago;
cold — not used for 180 days (or never), cached more than 365 days ago;
and anything that expires within a week. At most ``limit`` entries per run.

A stopped refresh resumes (``jobs.checkpoint``) by a key cursor over the order it refreshes
in — (tier, expiry, id) — per part (artists, then albums): the entries it refreshed are no
longer due anyway, and those it left as they were (a failure, a dry run) lie before the
cursor, so neither is done twice; the limit counts the entries done before the stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from enrichment.cursor import Position, WarmCursor
from enrichment.models import AlbumCache, ArtistCache, CacheEntry
from enrichment.plex import PlexItem
from enrichment.providers import providers_from_settings
from enrichment.warm import WarmResult, enrich_album, enrich_artist, warm_items
from jobs.cancel import NEVER, CancelToken
from jobs.progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from enrichment.warm import Enrich
    from jobs.progress import Sources


def due_for_refresh[E: CacheEntry](
    model: type[E], *, now: datetime, limit: int, after: Position | None = None
) -> list[E]:
    """The entries to refresh now, hottest first (then by expiry and id); with ``after`` (a
    ``refresh_position``), only those beyond it."""
    days = timedelta(days=1)
    hot = Q(last_used_at__gte=now - 30 * days, cached_at__lt=now - 60 * days)
    warm = Q(
        last_used_at__lt=now - 30 * days,
        last_used_at__gte=now - 180 * days,
        cached_at__lt=now - 120 * days,
    )
    cold = (Q(last_used_at__lt=now - 180 * days) | Q(last_used_at__isnull=True)) & Q(
        cached_at__lt=now - 365 * days
    )
    expiring = Q(expires_at__lte=now + 7 * days)
    tier = Case(
        When(hot, then=Value(0)),
        When(warm, then=Value(1)),
        When(cold, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    due = model._default_manager.filter(hot | warm | cold | expiring).annotate(tier=tier)
    if after is not None:
        due = due.filter(_beyond(after))
    return list(due.order_by("tier", "expires_at", "pk")[:limit])


def refresh_position(entry: CacheEntry) -> Position:
    """Where ``entry`` stands in the refresh order (a JSON list, compared as one)."""
    return [entry.tier, entry.expires_at.isoformat(), entry.pk]  # type: ignore[attr-defined]


def _beyond(after: Position) -> Q:
    """The keyset condition "(tier, expires_at, pk) > after"."""
    tier, expires, pk = int(after[0]), datetime.fromisoformat(str(after[1])), int(after[2])
    return (
        Q(tier__gt=tier)
        | Q(tier=tier, expires_at__gt=expires)
        | Q(tier=tier, expires_at=expires, pk__gt=pk)
    )


@dataclass(frozen=True)
class _Part:
    """The progress of one part: its checkpoints say which part and what came before."""

    progress: Progress
    before: dict[str, Any]

    def start(self, total: int | None, message: str = "") -> None:
        self.progress.start(total, message)

    def advance(self, n: int = 1, message: str | None = None, source: Sources = None) -> None:
        self.progress.advance(n, message, source)

    def set(self, current: int, message: str | None = None) -> None:
        self.progress.set(current, message)

    def finish(self, message: str | None = None) -> None:
        self.progress.finish(message)

    def checkpoint(self, cursor: Any) -> None:
        self.progress.checkpoint({**self.before, "warm": cursor})


def _resume_point(cursor: object) -> tuple[WarmCursor | None, dict[str, Any]]:
    """A refresh cursor's part cursor, and the artists part's outcome when it is past it."""
    if not isinstance(cursor, dict):
        return None, {}
    warm = WarmCursor.parse(cursor.get("warm"))
    artists = cursor.get("artists")
    if warm is None or (warm.part == 1 and not isinstance(artists, dict)):
        return None, {}
    try:
        _beyond(warm.after)  # a position this code can read, or the run starts over
    except (IndexError, TypeError, ValueError, OverflowError):
        return None, {}
    return warm, dict(artists) if warm.part == 1 and isinstance(artists, dict) else {}


def refresh_cache(
    *,
    limit: int = 200,
    concurrency: int = 2,
    dry_run: bool = False,
    cursor: object = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> WarmResult:
    """Refresh at most ``limit`` artist entries, then album entries with what is left; with
    ``cursor`` (a stopped run's checkpoint), go on where it stopped.

    The artists are always the first phase of the progress and the albums the second (a
    resumed run's count belongs to one of them: ``jobs.checkpoint``)."""
    now = timezone.now()
    resume, artists_part = _resume_point(cursor)
    in_albums = resume is not None and resume.part == 1
    artists_done = resume.done if resume is not None and not in_albums else 0
    artists: list[ArtistCache] = []
    if not in_albums:
        after = resume.after if resume is not None else None
        artists = due_for_refresh(
            ArtistCache, now=now, limit=max(0, limit - artists_done), after=after
        )
    artist_total = int(artists_part.get("total", 0)) if in_albums else artists_done + len(artists)
    albums_done = resume.done if resume is not None and in_albums else 0
    albums = due_for_refresh(
        AlbumCache,
        now=now,
        limit=max(0, limit - artist_total - albums_done),
        after=resume.after if resume is not None and in_albums else None,
    )
    result = WarmResult(dry_run=dry_run)
    if not artists and not albums and resume is None:
        progress.start(0, "Nothing is due for a refresh")
        progress.finish("Nothing is due for a refresh")
        return result
    providers = providers_from_settings(cancel=cancel)
    before: dict[str, Any] = {}

    def run(
        entries: Sequence[CacheEntry], item: Callable[[Any], PlexItem], enrich: Enrich, *, part: int
    ) -> WarmResult:
        items = [item(entry) for entry in entries]
        positions = {id(i): refresh_position(e) for i, e in zip(items, entries, strict=True)}
        part_cursor = resume if resume is not None and resume.part == part else None
        return warm_items(
            items,
            providers=providers,
            enrich=enrich,
            cached=set(),
            key=lambda item: item.rating_key,
            albums=part == 1,
            concurrency=concurrency,
            dry_run=dry_run,
            progress=_Part(progress, before),
            cancel=cancel,
            what="albums" if part == 1 else "artists",
            cursor=part_cursor,
            position=lambda item: positions[id(item)],
            part=part,
            # Those before the cursor are no longer selected: they still count.
            skipped=part_cursor.done if part_cursor is not None else 0,
        )

    parts = []
    try:
        if in_albums:
            # Done before the stop: its outcome counts, and its phase passes at once.
            progress.start(artist_total, "The artists were refreshed before the stop")
            parts.append(_counted(artists_part))
        else:
            parts.append(
                run(
                    artists,
                    lambda a: PlexItem(a.plex_key, a.name, []),
                    lambda item, tags: enrich_artist(item, tags, providers, cancel),
                    part=0,
                )
            )
        before["artists"] = {"total": parts[0].total, **parts[0].counts()}
        if albums:
            artist_genres = dict(ArtistCache.objects.values_list("normalized_name", "genres"))
            parts.append(
                run(
                    albums,
                    lambda a: PlexItem(a.plex_key, a.album_name, [], a.artist_name),
                    lambda item, tags: enrich_album(item, tags, providers, cancel, artist_genres),
                    part=1,
                )
            )
    finally:
        providers.close()
    for part in parts:
        result.add(part)
    result.provider_requests = providers.requests_sent
    return result


def _counted(saved: dict[str, Any]) -> WarmResult:
    """The outcome of a part done before the stop, as its checkpoint kept it."""
    return WarmResult.from_counts(saved, total=int(saved.get("total", 0)))
