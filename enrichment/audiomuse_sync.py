"""The ``audiomuse-sync`` service: mirror AudioMuse-AI's analysis into ``AudioFeatures``.

One pass reads the index manifest (ids + fingerprints, 1,000 per page), compares each
fingerprint with the stored row, fetches full payloads only for new or changed tracks (100
ids per request) and upserts them, batch by batch, each batch in its own short transaction —
never one held across an HTTP call (on SQLite that would block every other writer for the
whole sync). Rows whose ids are no longer listed are deleted only after the whole manifest
was read: a 503, a malformed page or a cancel midway leaves every stored row in place.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone

from enrichment.audiomuse import PROVIDER, AudioMuseClient
from enrichment.http import PermanentProviderError
from enrichment.models import AudioFeatures
from enrichment.upsert import upsert
from jobs.cancel import NEVER, CancelToken
from jobs.checkpoint import CHECKPOINT_EVERY
from jobs.progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from enrichment.audiomuse import IndexPage, TrackFeatures

logger = logging.getLogger(__name__)

FETCH_BATCH = 100
DELETE_BATCH = 500
SOURCE = "audiomuse"


def _max_lengths() -> dict[str, int]:
    # From the model, so a migration that widens a column needs no change here.
    return {
        f.name: f.max_length
        for f in AudioFeatures._meta.get_fields()
        if isinstance(f, models.CharField) and f.max_length
    }


_MAX_LENGTH = _max_lengths()
_FP_MAX = _MAX_LENGTH["fingerprint"]
_UPDATE_FIELDS = [
    "title",
    "artist",
    "album",
    "tempo",
    "key",
    "scale",
    "energy",
    "mood_vector",
    "other_features",
    "fingerprint",
    "synced_at",
]


@dataclass
class SyncResult:
    """What one sync saw and did (with ``dry_run``: what it would have done)."""

    listed: int = 0
    fetched: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    dry_run: bool = False


def sync_audio_features(
    *,
    dry_run: bool = False,
    cursor: object = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
    clock: Callable[[], float] = time.monotonic,
) -> SyncResult:
    """Bring ``AudioFeatures`` in line with AudioMuse-AI's current analysis.

    Progress counts tracks (total = the server's ``total_tracks``): an unchanged track
    advances when its fingerprint is compared, a new or changed one once it is stored.
    ``dry_run`` reads the manifest and reports what would change; it fetches no payloads
    and writes nothing. Raises ``ProviderConfigError`` when AudioMuse-AI is not configured
    or rejects the token, ``TransientProviderError`` when it stays unavailable (the job is
    retried later), ``JobCancelled`` at a checkpoint after a cancel (stored batches stay).

    Resuming (``cursor``: ``{"page": n, "counts": {...}}``, the last index page whose tracks
    were all compared and stored): every page is read again — the deletions need the whole
    manifest — but a track of a page up to ``n`` whose stored fingerprint matches was done
    before the stop and is not counted again; one that changed meanwhile is fetched as
    always. A page's leftover fetches are stored at its end (for a checkpoint) at most
    every ``CHECKPOINT_EVERY`` seconds, so the checkpoints cost few extra requests. Tracks
    stored after the last checkpoint (within one page) count as unchanged when resumed:
    the rows are right, only that split of the counts is approximate.
    """
    result = SyncResult(dry_run=dry_run)
    done_through = _resume(cursor, result)
    last_checkpoint = clock()
    with AudioMuseClient.from_settings(cancel=cancel) as client:
        # Read once up front: comparing 100k fingerprints row by row would be 100k queries.
        stored = dict(AudioFeatures.objects.values_list("rating_key", "fingerprint"))
        listed: set[str] = set()
        pending: list[str] = []
        reported_total: int | None = None
        progress.start(None, f"Reading the {PROVIDER} index")
        for page in _manifest(client, cancel):
            if reported_total is None:
                progress.start(page.total_tracks, f"Comparing {page.total_tracks} fingerprints")
            reported_total = page.total_tracks
            decided = 0
            for entry in page.entries:
                if entry.id in listed:
                    continue  # paging shifted under us; the first sighting counts
                listed.add(entry.id)
                known = stored.get(entry.id)
                if known is not None and known == entry.fp[:_FP_MAX]:
                    if page.page > done_through:  # else counted before the stop
                        result.unchanged += 1
                        decided += 1
                elif dry_run:
                    decided += 1
                    if known is None:
                        result.created += 1
                    else:
                        result.updated += 1
                else:
                    pending.append(entry.id)
            if decided:
                progress.advance(decided, f"Compared index page {page.page}", source=SOURCE)
            while len(pending) >= FETCH_BATCH:
                _fetch_and_store(client, pending[:FETCH_BATCH], stored, result, progress, cancel)
                del pending[:FETCH_BATCH]
            if pending and clock() - last_checkpoint >= CHECKPOINT_EVERY:
                _fetch_and_store(client, pending, stored, result, progress, cancel)
                pending.clear()
            if not pending and page.page > done_through:
                progress.checkpoint({"page": page.page, "counts": _counts(result)})
                last_checkpoint = clock()
        if pending:
            _fetch_and_store(client, pending, stored, result, progress, cancel)
        result.listed = len(listed)
        stale = sorted(set(stored) - listed)
        if len(listed) != reported_total:
            # The library changed while we paged (or entries were malformed): this manifest
            # cannot prove a track is gone. The next sync deletes what is really gone.
            logger.warning(
                "%s listed %s tracks but reports %s; not deleting anything this time",
                PROVIDER,
                len(listed),
                reported_total,
            )
        elif dry_run:
            result.deleted = len(stale)
        else:
            _delete(stale, result, progress, cancel)
    summary = (
        f"{'Dry run: would create' if dry_run else 'Created'} {result.created}, "
        f"update {result.updated}, delete {result.deleted}; {result.unchanged} unchanged"
    )
    progress.finish(summary)
    logger.info("%s sync: %s", PROVIDER, summary)
    return result


_COUNTED = ("fetched", "created", "updated", "unchanged")


def _counts(result: SyncResult) -> dict[str, int]:
    return {name: getattr(result, name) for name in _COUNTED}


def _resume(cursor: object, result: SyncResult) -> int:
    """The last page a stopped sync finished (0: none), its counts put back in ``result``."""
    if not isinstance(cursor, dict) or not isinstance(cursor.get("counts"), dict):
        return 0
    try:
        page = int(cursor["page"])
        counts = {name: int(cursor["counts"].get(name, 0)) for name in _COUNTED}
    except (KeyError, TypeError, ValueError, OverflowError):
        return 0
    for name, n in counts.items():
        setattr(result, name, n)
    return page


def _manifest(client: AudioMuseClient, cancel: CancelToken) -> Iterator[IndexPage]:
    """Every index page in order; raises if the server is not a Plex one or pages loop."""
    page_number = 1
    while True:
        cancel.raise_if_cancelled()
        page = client.index_page(page_number)
        if page.provider_type and page.provider_type != "plex":
            raise PermanentProviderError(
                PROVIDER,
                f"serves a {page.provider_type!r} library, not Plex: its ids are not rating keys",
            )
        yield page
        if not page.has_more:
            return
        following = page.next_page if page.next_page is not None else page_number + 1
        if following <= page_number:
            raise PermanentProviderError(PROVIDER, f"index paging went back to page {following}")
        page_number = following


def _fetch_and_store(
    client: AudioMuseClient,
    ids: list[str],
    stored: dict[str, str],
    result: SyncResult,
    progress: Progress,
    cancel: CancelToken,
) -> None:
    """Fetch one batch of payloads and upsert it in one short transaction."""
    cancel.raise_if_cancelled()
    payloads = client.fetch(ids)
    result.fetched += len(payloads)
    wanted = set(ids)
    cancel.raise_if_cancelled()
    with transaction.atomic():
        # A payload listed twice (or two ids alike once clipped to the column) is one row:
        # the later payload wins.
        rows = upsert(
            AudioFeatures,
            (_row(p) for p in payloads if p.id in wanted),
            unique_fields=["rating_key"],
            update_fields=_UPDATE_FIELDS,
        )
    for row in rows:
        if row.rating_key in stored:
            result.updated += 1
        else:
            result.created += 1
        stored[row.rating_key] = row.fingerprint
    # Ids the server dropped between listing and fetching count as done: nothing to store.
    progress.advance(len(ids), message=f"Stored {result.created + result.updated}", source=SOURCE)


def _clip(value: str, field: str) -> str:
    return value[: _MAX_LENGTH[field]]


def _row(features: TrackFeatures) -> AudioFeatures:
    return AudioFeatures(
        rating_key=_clip(features.id, "rating_key"),
        title=_clip(features.title, "title"),
        artist=_clip(features.artist, "artist"),
        album=_clip(features.album, "album"),
        tempo=features.tempo,
        key=_clip(features.key, "key"),
        scale=_clip(features.scale, "scale"),
        energy=features.energy,
        mood_vector=features.mood_vector,
        other_features=features.other_features,
        fingerprint=_clip(features.fp, "fingerprint"),
        synced_at=timezone.now(),
    )


def _delete(stale: list[str], result: SyncResult, progress: Progress, cancel: CancelToken) -> None:
    """Delete rows of tracks AudioMuse-AI no longer lists, in short batches."""
    for chunk in itertools.batched(stale, DELETE_BATCH):
        cancel.raise_if_cancelled()
        with transaction.atomic():
            deleted, _ = AudioFeatures.objects.filter(rating_key__in=chunk).delete()
        result.deleted += deleted
        progress.advance(0, f"Deleted {result.deleted} tracks {PROVIDER} no longer lists")
