"""The cache warmers: ``cache-warm`` (artists), ``cache-albums`` and ``cache-refresh``.

The order per item is cache → Plex tags → Last.fm → Spotify (only when nothing else gave a
genre). Provider calls run in ``concurrency`` threads; every database write happens in the
calling thread, in small batches, each its own short transaction. A provider failure on one
item is counted and skipped (the item is not cached, so the next run tries again); a
provider that rejects our configuration fails the job at once, naming the setting.

Plex's full metadata is read a batch at a time as the threads need items, so the provider
calls start after one metadata request rather than after all of them. The threads are
handed at most ``IN_FLIGHT_PER_THREAD`` items each: enough that none waits for its next,
few enough that waiting for any to finish stays cheap and a cancel drops little work.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from django.utils import timezone

from enrichment.http import ProviderConfigError, ProviderError
from enrichment.models import AlbumCache, ArtistCache, CacheEntry, cache_expiry
from enrichment.names import normalize_name
from enrichment.plex import METADATA_BATCH, PlexItem, Tags
from enrichment.providers import Providers, providers_from_settings
from enrichment.tags import merge_tags, useful_lastfm_tags
from enrichment.upsert import clip, conflict_key, merged_by_key, upsert
from jobs.cancel import NEVER, CancelToken, JobStopped
from jobs.context import ContextThreadPoolExecutor
from jobs.progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import datetime

    # An item's full Plex tags, asked for once the provider calls that do not need them
    # are done (they may still be on their way from Plex).
    TagSource = Callable[[], Tags]
    Enrich = Callable[[PlexItem, TagSource], "Outcome"]

logger = logging.getLogger(__name__)

WRITE_BATCH = 50
IN_FLIGHT_PER_THREAD = 2


@dataclass
class WarmResult:
    """What a warm did; the counts match the job's source counts."""

    total: int = 0
    cached: int = 0
    plex: int = 0
    lastfm: int = 0
    spotify: int = 0
    artist: int = 0
    failed: int = 0
    empty: int = 0
    written: int = 0
    provider_requests: int = 0
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    def add(self, other: WarmResult) -> None:
        """Count ``other``'s items and errors in with these (every count field: a field
        added later is summed too)."""
        for counted in fields(self):
            if counted.type == "int":
                name = counted.name
                setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)


@dataclass(frozen=True)
class Outcome:
    """One item's enrichment, computed in a worker thread."""

    item: PlexItem
    genres: list[str] = field(default_factory=list)
    moods: list[str] = field(default_factory=list)
    sources: tuple[str, ...] = ()
    spotify_id: str = ""
    error: str = ""


def _plex_then_lastfm(item: PlexItem, plex: Tags, lastfm: list[str]) -> tuple[list[str], list[str]]:
    """Plex's genres and styles (the listing's genres if the metadata had none), then
    Last.fm's useful tags; the merged genres and the sources that gave any."""
    sources: list[str] = []
    genres = merge_tags(plex.genres or item.genres, plex.styles)
    if genres:
        sources.append("plex")
    if lastfm:
        sources.append("lastfm")
        genres = merge_tags(genres, lastfm)
    return genres, sources


def enrich_artist(
    item: PlexItem, tags: TagSource, providers: Providers, cancel: CancelToken
) -> Outcome:
    # Last.fm first: its question does not depend on Plex's tags, which may still be coming.
    extra: list[str] = []
    if providers.lastfm is not None:
        cancel.raise_if_cancelled()
        extra = useful_lastfm_tags(providers.lastfm.artist_top_tags(item.title) or [])
    plex = tags()
    genres, sources = _plex_then_lastfm(item, plex, extra)
    spotify_id = ""
    if not genres and providers.spotify is not None:
        cancel.raise_if_cancelled()
        artist = providers.spotify.find_artist(item.title)
        if artist is not None:
            spotify_id = artist.spotify_id
            if artist.genres:
                sources.append("spotify")
                genres = merge_tags(artist.genres)
    return Outcome(item, genres, merge_tags(plex.moods), tuple(sources), spotify_id)


def enrich_album(
    item: PlexItem,
    tags: TagSource,
    providers: Providers,
    cancel: CancelToken,
    artist_genres: dict[str, list[str]],
) -> Outcome:
    extra: list[str] = []
    if providers.lastfm is not None:
        cancel.raise_if_cancelled()
        found = providers.lastfm.album_top_tags(item.artist, item.title)
        extra = useful_lastfm_tags(found or [])
    plex = tags()
    genres, sources = _plex_then_lastfm(item, plex, extra)
    if not genres:
        inherited = artist_genres.get(normalize_name(item.artist), [])
        if inherited:
            sources.append("artist")
            genres = list(inherited)
    return Outcome(item, genres, merge_tags(plex.moods), tuple(sources))


class _PlexFailed(Exception):
    """Reading Plex's metadata failed in a provider thread: the job fails with the cause (it
    is not one item's provider error, to be counted and skipped)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _tags_of(batch: Future[dict[str, Tags]], rating_key: str) -> TagSource:
    def tags() -> Tags:
        try:
            found = batch.result()
        except (JobStopped, ProviderConfigError):
            raise
        except Exception as exc:
            raise _PlexFailed(exc) from exc
        return found.get(rating_key, Tags())

    return tags


def _guarded(enrich: Enrich, item: PlexItem, tags: TagSource) -> Outcome:
    try:
        return enrich(item, tags)
    except (JobStopped, ProviderConfigError):
        raise
    except ProviderError as exc:
        return Outcome(item, error=str(exc))


class _Writer:
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
        self.repeated = {key for key, n in seen.items() if n > 1}
        self.earlier: dict[tuple[object, ...], CacheEntry] = {}

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


def warm_items(
    items: list[PlexItem],
    *,
    providers: Providers,
    enrich: Enrich,
    cached: set[str],
    key: Callable[[PlexItem], str],
    albums: bool,
    concurrency: int,
    dry_run: bool,
    progress: Progress,
    cancel: CancelToken,
    what: str,
) -> WarmResult:
    result = WarmResult(total=len(items), dry_run=dry_run)
    progress.start(len(items), f"Checking {len(items)} {what} against the cache")
    todo: list[PlexItem] = []
    for item in items:
        if key(item) in cached:
            result.cached += 1
            progress.advance(1, source="cached")
        else:
            todo.append(item)
    writer = _Writer(albums=albums, dry_run=dry_run, result=result, items=todo)
    in_flight = IN_FLIGHT_PER_THREAD * max(1, concurrency)
    # Context-copying pools: the threads' log records and provider usage belong to the job.
    pool = ContextThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="warm")
    plex = ContextThreadPoolExecutor(max_workers=1, thread_name_prefix="warm-plex")
    work = _with_tags(plex, providers, todo, cancel)
    pending: set[Future[Outcome]] = set()
    try:
        while True:
            # Top up first: the threads always have the next item while this one is counted.
            while len(pending) < in_flight and (nxt := next(work, None)) is not None:
                pending.add(pool.submit(_guarded, enrich, *nxt))
            if not pending:
                break
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                _count(future.result(), result, writer, progress, cancel)
            cancel.raise_if_cancelled()
    except BaseException as exc:
        pool.shutdown(wait=True, cancel_futures=True)
        plex.shutdown(wait=True, cancel_futures=True)
        # Complete entries stay: write what finished before the cancel, nothing half-done.
        writer.flush()
        if isinstance(exc, _PlexFailed):
            raise exc.error from None
        raise
    plex.shutdown(wait=True)
    pool.shutdown(wait=True)
    cancel.raise_if_cancelled()
    writer.flush()
    result.provider_requests = providers.requests_sent
    progress.finish(_finished_message(result, what))
    return result


def _finished_message(result: WarmResult, what: str) -> str:
    """The bar's last words: a run that skipped everything as cached says so (it said
    "0 artists cached, 0 failed" beside "cached=300")."""
    looked_up = result.total - result.cached
    if not looked_up:
        return f"All {result.total} {what} were cached already"
    found = looked_up - result.failed - result.empty
    verb = "would be cached" if result.dry_run else "cached"
    return f"{found} of {looked_up} {what} {verb}, {result.failed} failed"


def _with_tags(
    plex: ContextThreadPoolExecutor,
    providers: Providers,
    todo: list[PlexItem],
    cancel: CancelToken,
) -> Iterator[tuple[PlexItem, TagSource]]:
    """Each item with its full Plex tags to come: one metadata request per
    ``METADATA_BATCH`` items, read in ``plex``'s thread one batch ahead of the items handed
    out, so no provider thread waits for Plex except (briefly) on the first batch."""
    batches = list(itertools.batched(todo, METADATA_BATCH))

    def read(batch: tuple[PlexItem, ...]) -> dict[str, Tags]:
        return dict(providers.plex.full_tags([i.rating_key for i in batch], cancel=cancel))

    ahead = [plex.submit(read, batch) for batch in batches[:2]]
    for n, batch in enumerate(batches):
        tags = ahead[n]
        if n + 2 < len(batches):
            ahead.append(plex.submit(read, batches[n + 2]))
        for item in batch:
            yield item, _tags_of(tags, item.rating_key)


def _count(
    outcome: Outcome,
    result: WarmResult,
    writer: _Writer,
    progress: Progress,
    cancel: CancelToken,
) -> None:
    message = f"{outcome.item.title}"
    if outcome.error:
        result.failed += 1
        if len(result.errors) < 20:
            result.errors.append(f"{outcome.item.title}: {outcome.error}"[:200])
        progress.advance(1, message=message, source="failed")
        return
    for source in outcome.sources:
        setattr(result, source, getattr(result, source) + 1)
    if not outcome.genres:
        # Nothing learned: not cached, so a later run (or a new provider) may do better.
        result.empty += 1
        progress.advance(1, message=message, source=outcome.sources or None)
        return
    progress.advance(1, message=message, source=outcome.sources or None)
    writer.add(outcome, cancel)


def _fresh_artist_names(items: Iterable[PlexItem]) -> set[str]:
    names = [normalize_name(i.title) for i in items]
    fresh: set[str] = set()
    for chunk in itertools.batched(names, 500):
        fresh.update(
            ArtistCache.objects.filter(
                normalized_name__in=chunk, expires_at__gt=timezone.now()
            ).values_list("normalized_name", flat=True)
        )
    return fresh


def warm_artist_cache(
    *,
    concurrency: int = 2,
    skip_cached: bool = True,
    dry_run: bool = False,
    limit: int | None = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> WarmResult:
    """Fill the artist genre cache from Plex, Last.fm and Spotify (``cache-warm``)."""
    providers = providers_from_settings(cancel=cancel)
    try:
        artists = providers.plex.artists(cancel=cancel)
        if limit:
            artists = artists[:limit]
        cached = _fresh_artist_names(artists) if skip_cached else set()
        return warm_items(
            artists,
            providers=providers,
            enrich=lambda item, tags: enrich_artist(item, tags, providers, cancel),
            cached=cached,
            key=lambda item: normalize_name(item.title),
            albums=False,
            concurrency=concurrency,
            dry_run=dry_run,
            progress=progress,
            cancel=cancel,
            what="artists",
        )
    finally:
        providers.close()


def warm_album_cache(
    *,
    concurrency: int = 2,
    skip_cached: bool = True,
    dry_run: bool = False,
    limit: int | None = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> WarmResult:
    """Fill the album genre cache: Plex album tags, Last.fm album tags, else the artist's
    genres (``cache-albums``)."""
    providers = providers_from_settings(cancel=cancel)
    try:
        albums = providers.plex.albums(cancel=cancel)
        if limit:
            albums = albums[:limit]
        cached: set[str] = set()
        if skip_cached:
            cached = {
                f"{a}\x00{b}"
                for a, b in AlbumCache.objects.filter(expires_at__gt=timezone.now()).values_list(
                    "normalized_artist", "normalized_album"
                )
            }
        artist_genres = dict(ArtistCache.objects.values_list("normalized_name", "genres"))
        return warm_items(
            albums,
            providers=providers,
            enrich=lambda item, tags: enrich_album(item, tags, providers, cancel, artist_genres),
            cached=cached,
            key=lambda item: f"{normalize_name(item.artist)}\x00{normalize_name(item.title)}",
            albums=True,
            concurrency=concurrency,
            dry_run=dry_run,
            progress=progress,
            cancel=cancel,
            what="albums",
        )
    finally:
        providers.close()
