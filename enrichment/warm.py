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
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from enrichment.cache_writer import CacheWriter
from enrichment.cursor import (
    InOrder,
    Position,
    WarmCursor,
    after_cursor,
    rating_key_position,
)
from enrichment.http import ProviderConfigError, ProviderError
from enrichment.models import AlbumCache, ArtistCache
from enrichment.names import normalize_name
from enrichment.plex import METADATA_BATCH, PlexItem, Tags
from enrichment.providers import Providers, providers_from_settings
from enrichment.tags import merge_tags, useful_lastfm_tags
from jobs.cancel import NEVER, CancelToken, JobStopped
from jobs.context import ContextThreadPoolExecutor
from jobs.progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    # An item's full Plex tags, asked for once the provider calls that do not need them
    # are done (they may still be on their way from Plex).
    TagSource = Callable[[], Tags]
    Enrich = Callable[[PlexItem, TagSource], "Outcome"]

logger = logging.getLogger(__name__)

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

    def counts(self) -> dict[str, int]:
        """The item counters a cursor carries over a stop (``total`` is the library's size
        when the run goes on; provider requests are counted per attempt)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in _ITEM_COUNTERS}

    @classmethod
    def from_counts(cls, counts: Mapping[str, Any], **kwargs: Any) -> WarmResult:
        """A result that starts from ``counts`` (a cursor's; unknown names are ignored)."""
        kept: dict[str, Any] = {k: int(v) for k, v in counts.items() if k in _ITEM_COUNTERS}
        return cls(**kwargs, **kept)


_ITEM_COUNTERS = frozenset(
    f.name
    for f in fields(WarmResult)
    if f.type == "int" and f.name not in ("total", "provider_requests")
)


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
    cursor: WarmCursor | None = None,
    position: Callable[[PlexItem], Position] = rating_key_position,
    part: int = 0,
    skipped: int = 0,
) -> WarmResult:
    """Warm ``items`` in ascending ``position``; with ``cursor`` (a stopped run's), only
    those beyond it, its counters carried on (``enrichment.cursor``). Checkpoints as it goes.
    ``skipped``: items done before the cursor that the caller left out of ``items``."""
    items = sorted(items, key=position)
    result = WarmResult.from_counts(
        cursor.counts if cursor is not None else {}, total=skipped + len(items), dry_run=dry_run
    )
    progress.start(result.total, f"Checking {result.total} {what} against the cache")
    walk, before = items, []
    if cursor is not None:
        walk = after_cursor(items, position, cursor.after)
        beyond = {id(item) for item in walk}
        before = [item for item in items if id(item) not in beyond]
    flags = [key(item) in cached for item in walk]
    todo = [item for item, is_cached in zip(walk, flags, strict=True) if not is_cached]
    places = [n for n, is_cached in enumerate(flags) if not is_cached]
    writer = CacheWriter(albums=albums, dry_run=dry_run, result=result, items=todo)
    writer.carry(before)
    order: InOrder[Outcome] = InOrder(walk, flags)

    def count_ready() -> None:
        for outcome in order.drain():
            if outcome is None:
                result.cached += 1
                progress.advance(1, source="cached")
            else:
                stored = result.written
                _count(outcome, result, writer, progress, cancel)
                if result.written != stored:
                    # A batch stored midway through the ready items: its checkpoint now,
                    # before the next ones buffer (once per drain, a run could reach its
                    # end without a checkpoint since its start).
                    save()
        save()

    def save() -> None:
        # Only over items counted *and* stored: what the buffer holds is not done yet.
        last = order.last_done
        if last is not None and (dry_run or not writer.buffer):
            counts = result.counts()
            done = (cursor.done if cursor is not None else 0) + order.done
            progress.checkpoint(WarmCursor(position(last), counts, part, done).as_json())

    in_flight = IN_FLIGHT_PER_THREAD * max(1, concurrency)
    # Context-copying pools: the threads' log records and provider usage belong to the job.
    pool = ContextThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="warm")
    plex = ContextThreadPoolExecutor(max_workers=1, thread_name_prefix="warm-plex")
    work = zip(places, _with_tags(plex, providers, todo, cancel), strict=False)
    pending: dict[Future[Outcome], int] = {}
    try:
        count_ready()
        while True:
            # Top up first: the threads always have the next item while this one is counted.
            while len(pending) < in_flight and (nxt := next(work, None)) is not None:
                place, (item, tags) = nxt
                pending[pool.submit(_guarded, enrich, item, tags)] = place
            if not pending:
                break
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                order.finished(pending.pop(future), future.result())
            count_ready()
            cancel.raise_if_cancelled()
    except BaseException as exc:
        pool.shutdown(wait=True, cancel_futures=True)
        plex.shutdown(wait=True, cancel_futures=True)
        # Complete entries stay: write what finished before the cancel, nothing half-done;
        # then the checkpoint covers them, so the next attempt goes on after them.
        writer.flush()
        save()
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
    writer: CacheWriter,
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
    cursor: object = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> WarmResult:
    """Fill the artist genre cache from Plex, Last.fm and Spotify (``cache-warm``); with
    ``cursor`` (a stopped run's checkpoint), go on after the last artist it stored."""
    providers = providers_from_settings(cancel=cancel)
    try:
        # In rating-key order, the order of a cursor (``enrichment.cursor``): ``limit``
        # takes the same items however often the run is resumed.
        artists = sorted(providers.plex.artists(cancel=cancel), key=rating_key_position)
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
            cursor=WarmCursor.parse(cursor),
        )
    finally:
        providers.close()


def warm_album_cache(
    *,
    concurrency: int = 2,
    skip_cached: bool = True,
    dry_run: bool = False,
    limit: int | None = None,
    cursor: object = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> WarmResult:
    """Fill the album genre cache: Plex album tags, Last.fm album tags, else the artist's
    genres (``cache-albums``); with ``cursor``, go on after the last album stored."""
    providers = providers_from_settings(cancel=cancel)
    try:
        # In rating-key order, the order of a cursor (``enrichment.cursor``): ``limit``
        # takes the same items however often the run is resumed.
        albums = sorted(providers.plex.albums(cancel=cancel), key=rating_key_position)
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
            cursor=WarmCursor.parse(cursor),
        )
    finally:
        providers.close()
