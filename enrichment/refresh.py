"""``cache-refresh``: re-fetch cache entries before they go stale, most used first.

Tiers (by when a playlist last used the entry, and how old it is):
hot — used in the last 30 days, cached more than 60 days ago;
warm — used 30 to 180 days ago, cached more than 120 days ago;
cold — not used for 180 days (or never), cached more than 365 days ago;
and anything that expires within a week. At most ``limit`` entries per run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from enrichment.models import AlbumCache, ArtistCache, CacheEntry
from enrichment.plex import PlexItem
from enrichment.providers import providers_from_settings
from enrichment.warm import WarmResult, enrich_album, enrich_artist, warm_items
from jobs.cancel import NEVER, CancelToken
from jobs.progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    from enrichment.warm import Enrich


def due_for_refresh[E: CacheEntry](model: type[E], *, now: datetime, limit: int) -> list[E]:
    """The entries to refresh now, hottest first."""
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
    return list(due.order_by("tier", "expires_at")[:limit])


def refresh_cache(
    *,
    limit: int = 200,
    concurrency: int = 2,
    dry_run: bool = False,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> WarmResult:
    """Refresh at most ``limit`` artist entries, then album entries with what is left."""
    now = timezone.now()
    artists = due_for_refresh(ArtistCache, now=now, limit=limit)
    albums = due_for_refresh(AlbumCache, now=now, limit=max(0, limit - len(artists)))
    result = WarmResult(dry_run=dry_run)
    if not artists and not albums:
        progress.start(0, "Nothing is due for a refresh")
        progress.finish("Nothing is due for a refresh")
        return result
    providers = providers_from_settings(cancel=cancel)

    def run(items: list[PlexItem], enrich: Enrich, *, albums: bool) -> WarmResult:
        return warm_items(
            items,
            providers=providers,
            enrich=enrich,
            cached=set(),
            key=lambda item: item.rating_key,
            albums=albums,
            concurrency=concurrency,
            dry_run=dry_run,
            progress=progress,
            cancel=cancel,
            what="albums" if albums else "artists",
        )

    parts = []
    try:
        if artists:
            parts.append(
                run(
                    [PlexItem(a.plex_key, a.name, []) for a in artists],
                    lambda item, tags: enrich_artist(item, tags, providers, cancel),
                    albums=False,
                )
            )
        if albums:
            artist_genres = dict(ArtistCache.objects.values_list("normalized_name", "genres"))
            parts.append(
                run(
                    [PlexItem(a.plex_key, a.album_name, [], a.artist_name) for a in albums],
                    lambda item, tags: enrich_album(item, tags, providers, cancel, artist_genres),
                    albums=True,
                )
            )
    finally:
        providers.close()
    for part in parts:
        result.add(part)
    result.provider_requests = providers.requests_sent
    return result
