"""A stopped audiomuse-sync goes on from its last finished index page (issue 15 item 1)."""

from __future__ import annotations

import pytest

from enrichment.audiomuse_sync import sync_audio_features
from enrichment.models import AudioFeatures
from jobs.cancel import CancelEvent, JobCancelled
from jobs.checkpoint import Checkpoint
from jobs.progress import MemoryProgress
from tests.enrichment.test_audiomuse_sync import big_fake, cancel_when, configure, fake  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def stopped_midway(server) -> Checkpoint:
    """A first sync cancelled once 1,200 of its 2,500 tracks were fetched; its checkpoint."""
    token, moments = CancelEvent(), list[float]()
    progress = MemoryProgress()
    watcher = cancel_when(token, lambda: server.ids_fetched >= 1200, moments)
    with pytest.raises(JobCancelled):
        sync_audio_features(progress=progress, cancel=token)
    watcher.join()
    saved, _ = progress.last_checkpoint()
    assert saved is not None
    return saved


def resumed(saved: Checkpoint) -> tuple[MemoryProgress, object]:
    progress = MemoryProgress()
    progress.resume_from(saved.resuming(attempt=2))
    return progress, sync_audio_features(cursor=saved.cursor, progress=progress)


def test_a_resumed_sync_fetches_only_what_it_had_not_stored_and_counts_the_whole_run(big_fake):  # noqa: F811
    saved = stopped_midway(big_fake)
    assert saved.cursor["page"] == 1 and saved.current == 1000
    stored_before = set(AudioFeatures.objects.values_list("rating_key", flat=True))
    big_fake.reset_counters()
    progress, result = resumed(saved)
    assert not stored_before & set(big_fake.fetched_ids())  # nothing stored is fetched again
    # What the stopped attempt stored after its last checkpoint (within one index page)
    # counts as unchanged: the rows are right, only that split is approximate.
    assert (result.listed, result.updated) == (2500, 0)
    assert result.created + result.unchanged == 2500
    assert result.created >= 2500 - 1000
    assert result.fetched + result.unchanged == 2500  # over both attempts, each track once
    assert progress.snapshot().current == 2500
    assert AudioFeatures.objects.count() == 2500


def test_a_track_reanalysed_meanwhile_before_the_cursor_is_fetched_again(big_fake):  # noqa: F811
    saved = stopped_midway(big_fake)
    changed = big_fake.ids()[3]  # on the first page, which the cursor covers
    big_fake.change_track(changed)
    big_fake.reset_counters()
    _, result = resumed(saved)
    assert changed in big_fake.fetched_ids()
    assert result.updated == 1 and result.created + result.unchanged == 2500
    row = AudioFeatures.objects.get(rating_key=changed)
    assert row.fingerprint == big_fake.fingerprint(changed)


@pytest.mark.parametrize("junk", [None, 3, {"page": "x", "counts": {}}, {"page": 1}])
def test_a_cursor_it_cannot_read_means_a_full_sync(big_fake, junk):  # noqa: F811
    result = sync_audio_features(cursor=junk)
    assert (result.listed, result.created) == (2500, 2500)
