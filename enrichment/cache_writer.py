"""The warmers' writes: finished outcomes buffered and upserted in small batches."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from django.utils import timezone

from enrichment.models import AlbumCache, ArtistCache, CacheEntry, cache_expiry
from enrichment.names import normalize_name
from enrichment.tags import merge_tags
from enrichment.upsert import clip, conflict_key, merged_by_key, upsert

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from enrichment.plex import PlexItem
    from enrichment.warm import Outcome, WarmResult
    from jobs.cancel import CancelToken

WRITE_BATCH = 50


class CacheWriter:
    """Buffers finished outcomes and writes them in small upserts.

    Items that share a cache key (the same artist twice in Plex, an album under two
    spellings) share one entry holding what all of them gave: merged within a batch, and
    across batches for the keys that the run's items repeat."""

    def __init__(
        self, *, albums: bool, dry_run: bool, result: WarmResult, items: Iterable[PlexItem]
    ) -> None:
        self.albums = albums
        self.dry_run = dry_run
        self.result = result
        self.buffer: list[Outcome] = []
        self.model: type[CacheEntry] = AlbumCache if albums else ArtistCache
        self.unique_fields = (
            ["normalized_artist", "normalized_album"] if albums else ["normalized_name"]
        )
        self.update_fields = _UPDATE_FIELDS if albums else [*_UPDATE_FIELDS, "name", "spotify_id"]
        seen = Counter(self._key(item) for item in items)
        self.keys = set(seen)
        self.repeated = {key for key, n in seen.items() if n > 1}
        self.earlier: dict[tuple[object, ...], CacheEntry] = {}

    def carry(self, before: Iterable[PlexItem]) -> None:
        """Resuming: a key that items before the cursor stored and items after it repeat
        starts from its stored entry, so they add to what it holds instead of replacing it."""
        spanning = {self._key(item) for item in before} & self.keys
        if not spanning or self.dry_run:
            return
        self.repeated |= spanning
        lead = self.unique_fields[0]
        stored = self.model._default_manager.filter(**{f"{lead}__in": {k[0] for k in spanning}})
        for row in stored:
            found = conflict_key(row, self.unique_fields)
            if found in spanning:
                row.pk = None  # merged into a new row that the upsert writes by its key
                self.earlier[found] = row

    def _key(self, item: PlexItem) -> tuple[str, ...]:
        if self.albums:
            return (
                clip(AlbumCache, "normalized_artist", normalize_name(item.artist)),
                clip(AlbumCache, "normalized_album", normalize_name(item.title)),
            )
        return (clip(ArtistCache, "normalized_name", normalize_name(item.title)),)

    def add(self, outcome: Outcome, cancel: CancelToken) -> None:
        self.buffer.append(outcome)
        if len(self.buffer) >= WRITE_BATCH:
            cancel.raise_if_cancelled()
            self.flush()

    def _row(self, o: Outcome, now: datetime) -> CacheEntry:
        common = {
            "plex_key": clip(self.model, "plex_key", o.item.rating_key),
            "genres": o.genres,
            "moods": o.moods,
            "sources": list(o.sources),
            "cached_at": now,
            "expires_at": cache_expiry(now),
        }
        if self.albums:
            artist, album = self._key(o.item)
            return AlbumCache(
                artist_name=clip(AlbumCache, "artist_name", o.item.artist),
                album_name=clip(AlbumCache, "album_name", o.item.title),
                normalized_artist=artist,
                normalized_album=album,
                **common,
            )
        (name,) = self._key(o.item)
        return ArtistCache(
            name=clip(ArtistCache, "name", o.item.title),
            normalized_name=name,
            spotify_id=clip(ArtistCache, "spotify_id", o.spotify_id),
            **common,
        )

    def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        if not batch or self.dry_run:
            return
        now = timezone.now()
        rows = merged_by_key((self._row(o, now) for o in batch), self.unique_fields, merge_entries)
        for n, row in enumerate(rows):
            key = conflict_key(row, self.unique_fields)
            if key in self.repeated:
                if key in self.earlier:
                    rows[n] = row = merge_entries(self.earlier[key], row)
                self.earlier[key] = row
        upsert(
            self.model,
            rows,
            unique_fields=self.unique_fields,
            update_fields=self.update_fields,
        )
        self.result.written += len(batch)


_UPDATE_FIELDS = ["plex_key", "genres", "moods", "sources", "cached_at", "expires_at"]


def merge_entries[E: CacheEntry](kept: E, later: E) -> E:
    """One cache entry for two items of one key: the union of their tags and sources; the
    first item's name and Plex key (a refresh re-reads one of them), the first Spotify id."""
    kept.genres = merge_tags(kept.genres, later.genres)
    kept.moods = merge_tags(kept.moods, later.moods)
    kept.sources = list(dict.fromkeys([*kept.sources, *later.sources]))
    if isinstance(kept, ArtistCache) and isinstance(later, ArtistCache):
        kept.spotify_id = kept.spotify_id or later.spotify_id
    return kept
