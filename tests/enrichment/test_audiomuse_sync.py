"""The audiomuse-sync service against the fake AudioMuse-AI, with the real client and database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from enrichment.audiomuse import parse_scores
from enrichment.audiomuse_sync import SyncResult, sync_audio_features
from enrichment.fakes import AnalyzedTrack, FakeAudioMuse, Library
from enrichment.http import ProviderConfigError, TransientProviderError
from enrichment.models import AudioFeatures
from jobs.cancel import CancelEvent, JobCancelled
from jobs.progress import MemoryProgress
from jobs.retry import TransientError
from tests.cluster import wait_for

pytestmark = pytest.mark.django_db

TOKEN = "test-audiomuse-token"


@pytest.fixture
def configure(settings) -> Callable[[FakeAudioMuse], FakeAudioMuse]:
    def point_at(fake: FakeAudioMuse) -> FakeAudioMuse:
        settings.PLAYLISTER_AUDIOMUSE_URL = fake.url
        settings.PLAYLISTER_AUDIOMUSE_TOKEN = TOKEN
        return fake

    return point_at


@pytest.fixture
def fake(library: Library, configure) -> Iterator[FakeAudioMuse]:
    with FakeAudioMuse(library, token=TOKEN) as server:
        yield configure(server)


@pytest.fixture
def big_fake(paging_library: Library, configure) -> Iterator[FakeAudioMuse]:
    """2,500 tracks: three index pages of at most 1,000."""
    with FakeAudioMuse(paging_library, token=TOKEN) as server:
        yield configure(server)


def stored() -> dict[str, str]:
    return dict(AudioFeatures.objects.values_list("rating_key", "fingerprint"))


def synced(fake: FakeAudioMuse) -> SyncResult:
    """A first full sync, then counters reset for what the test does next."""
    result = sync_audio_features()
    assert result.created == len(fake.ids())
    fake.reset_counters()
    return result


def cancel_when(
    token: CancelEvent, condition: Callable[[], object], moments: list[float]
) -> threading.Thread:
    """Cancel ``token`` from another thread as soon as ``condition`` holds; note the time."""

    def watch() -> None:
        wait_for(condition, timeout=30, interval=0.005, what="the moment to cancel")
        moments.append(time.monotonic())
        token.cancel()

    watcher = threading.Thread(target=watch, name="cancel-watcher")
    watcher.start()
    return watcher


def test_first_sync_pages_through_more_than_1000_tracks(big_fake) -> None:
    progress = MemoryProgress()
    result = sync_audio_features(progress=progress)
    assert result == SyncResult(listed=2500, fetched=2500, created=2500)
    assert big_fake.index_requests == 3  # limit=1000, not the server's default page size
    assert (big_fake.full_payload_requests, big_fake.ids_fetched) == (25, 2500)
    assert big_fake.embeddings_sent == 0
    assert AudioFeatures.objects.count() == 2500
    track_id = big_fake.ids()[1234]
    expected = big_fake.features(track_id)
    row = AudioFeatures.objects.get(rating_key=track_id)
    assert (row.title, row.artist, row.album) == (
        expected["title"],
        expected["artist"],
        expected["album"],
    )
    assert (row.tempo, row.key, row.scale, row.energy) == (
        expected["tempo"],
        expected["key"],
        expected["scale"],
        expected["energy"],
    )
    assert row.mood_vector == parse_scores(expected["mood_vector"]) and row.mood_vector
    assert row.other_features == parse_scores(expected["other_features"])
    assert row.fingerprint == expected["fp"]
    snap = progress.snapshot()
    assert (snap.current, snap.total, snap.finished) == (2500, 2500, True)
    assert snap.source_counts == {"audiomuse": 2500}
    assert "Created 2500" in snap.message


def test_a_second_sync_with_nothing_changed_fetches_no_payload(fake) -> None:
    first = synced(fake)
    before = stored()
    result = sync_audio_features()
    assert result == SyncResult(listed=first.listed, unchanged=first.listed)
    assert fake.full_payload_requests == 0 and fake.ids_fetched == 0
    assert fake.index_requests == 1
    assert stored() == before


def test_a_changed_fingerprint_refetches_only_that_track(fake) -> None:
    first = synced(fake)
    track_id = fake.ids()[7]
    untouched = AudioFeatures.objects.exclude(rating_key=track_id).values_list("synced_at")
    untouched_before = sorted(untouched)
    new_fp = fake.change_track(track_id)
    new_track = AnalyzedTrack("99999999", "Brand New", "Someone", "Debut", ("Jazz",))
    fake.add_track(new_track)
    result = sync_audio_features()
    assert fake.fetched_ids() == [track_id, new_track.id]
    assert result == SyncResult(
        listed=first.listed + 1, fetched=2, created=1, updated=1, unchanged=first.listed - 1
    )
    row = AudioFeatures.objects.get(rating_key=track_id)
    assert row.fingerprint == new_fp
    assert row.mood_vector == parse_scores(fake.features(track_id)["mood_vector"])
    assert AudioFeatures.objects.get(rating_key=new_track.id).title == "Brand New"
    assert sorted(untouched.exclude(rating_key=new_track.id)) == untouched_before


def test_removed_tracks_are_deleted(fake) -> None:
    first = synced(fake)
    gone = fake.ids()[:2]
    for track_id in gone:
        fake.remove_track(track_id)
    result = sync_audio_features()
    assert result == SyncResult(listed=first.listed - 2, deleted=2, unchanged=first.listed - 2)
    assert not AudioFeatures.objects.filter(rating_key__in=gone).exists()
    assert AudioFeatures.objects.count() == first.listed - 2
    assert fake.full_payload_requests == 0


def test_503s_are_retried_until_the_server_recovers(fake) -> None:
    fake.fail(2)  # no Retry-After: the client's own backoff (about 0.5 s, then 1 s)
    result = sync_audio_features()
    assert result.created == len(fake.ids())
    assert fake.unavailable_answers == 2
    assert AudioFeatures.objects.count() == len(fake.ids())


def test_a_persistent_503_midway_fails_transiently_and_deletes_nothing(big_fake, settings) -> None:
    synced(big_fake)
    before = stored()
    for track_id in big_fake.ids()[-3:]:
        big_fake.remove_track(track_id)
    big_fake.change_track(big_fake.ids()[0])
    settings.PLAYLISTER_HTTP_ATTEMPTS = 2
    # Page 1 of the index arrives, page 2 never does.
    big_fake.fail(None, after=1, endpoints={"sync-index"}, retry_after=0)
    with pytest.raises(TransientProviderError) as caught:
        sync_audio_features()
    assert isinstance(caught.value, TransientError)
    assert "503" in str(caught.value) and "retried later" in str(caught.value)
    assert big_fake.index_requests == 1 and big_fake.unavailable_answers == 2
    # Nothing deleted; the one changed track on page 1 may have been refreshed, no more.
    after = stored()
    assert after.keys() == before.keys()
    assert {k for k in after if after[k] != before[k]} <= {big_fake.ids()[0]}


def test_an_unavailable_server_never_reads_as_an_empty_library(fake, settings) -> None:
    synced(fake)
    settings.PLAYLISTER_HTTP_ATTEMPTS = 1
    fake.unavailable = True
    with pytest.raises(TransientProviderError):
        sync_audio_features()
    assert AudioFeatures.objects.count() == len(fake.ids())


def test_a_cancel_stops_within_a_second_while_requests_are_slow(big_fake) -> None:
    AudioFeatures.objects.create(rating_key="stale-1", fingerprint="x")  # would be deleted
    big_fake.set_latency(0.4)
    token = CancelEvent()
    moments: list[float] = []
    watcher = cancel_when(token, lambda: big_fake.full_payload_requests >= 2, moments)
    try:
        with pytest.raises(JobCancelled):
            sync_audio_features(cancel=token)
        stopped = time.monotonic()
    finally:
        watcher.join()
    assert stopped - moments[0] < 1.0
    kept = AudioFeatures.objects.exclude(rating_key="stale-1").count()
    assert 100 <= kept < 2500 and kept % 100 == 0  # whole batches, each committed
    assert AudioFeatures.objects.filter(rating_key="stale-1").exists()
    late = [r for r in big_fake.records() if r.at > moments[0]]
    assert len(late) <= 1  # at most a request that had passed its checkpoint already


def test_a_cancel_cuts_a_retry_after_wait_short(fake) -> None:
    fake.fail(None, retry_after=30)
    token = CancelEvent()
    moments: list[float] = []
    watcher = cancel_when(token, lambda: fake.unavailable_answers >= 1, moments)
    try:
        with pytest.raises(JobCancelled):
            sync_audio_features(cancel=token)
        stopped = time.monotonic()
    finally:
        watcher.join()
    assert stopped - moments[0] < 1.0
    assert fake.unavailable_answers == 1


def test_dry_run_reads_and_reports_but_writes_nothing(fake) -> None:
    first = synced(fake)
    before = list(AudioFeatures.objects.order_by("pk").values())
    ids = fake.ids()
    fake.change_track(ids[0])
    fake.remove_track(ids[1])
    fake.add_track(AnalyzedTrack("88888888", "New", "Someone", "Debut"))
    progress = MemoryProgress()
    result = sync_audio_features(dry_run=True, progress=progress)
    assert result == SyncResult(
        listed=first.listed,
        created=1,
        updated=1,
        deleted=1,
        unchanged=first.listed - 2,
        dry_run=True,
    )
    assert fake.full_payload_requests == 0
    assert list(AudioFeatures.objects.order_by("pk").values()) == before
    assert progress.snapshot().message.startswith("Dry run: would create 1")


def test_dry_run_on_an_empty_database_creates_nothing(fake) -> None:
    result = sync_audio_features(dry_run=True)
    assert result.created == len(fake.ids()) and result.fetched == 0
    assert not AudioFeatures.objects.exists()


def test_a_missing_url_names_the_setting(settings) -> None:
    settings.PLAYLISTER_AUDIOMUSE_URL = ""
    with pytest.raises(ProviderConfigError, match="PLAYLISTER_AUDIOMUSE_URL"):
        sync_audio_features()


def test_a_rejected_token_names_the_setting_and_never_shows_the_token(fake, settings) -> None:
    settings.PLAYLISTER_AUDIOMUSE_TOKEN = "s3cret-wrong-token"
    with pytest.raises(ProviderConfigError) as caught:
        sync_audio_features()
    message = str(caught.value)
    assert "PLAYLISTER_AUDIOMUSE_TOKEN" in message and "401" in message
    assert "s3cret-wrong-token" not in message
    assert fake.request_count() == 1
    assert not AudioFeatures.objects.exists()
