"""cache-warm / cache-albums / cache-refresh against the fake servers over real HTTP."""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.utils import timezone

from enrichment.fakes import FaultPlan
from enrichment.http import ProviderConfigError, TransientProviderError
from enrichment.models import AlbumCache, ArtistCache
from enrichment.names import normalize_name
from enrichment.plex import METADATA_BATCH, PlexLibrary, Tags, connect
from enrichment.refresh import due_for_refresh, refresh_cache
from enrichment.warm import warm_album_cache, warm_artist_cache
from jobs.models import JobStatus
from jobs.progress import MemoryProgress
from jobs.runner import run_direct
from tests.enrichment.helpers import configure, library_of, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(settings):
    services = start(library_of(40))
    configure(settings, services)
    yield services
    services.stop()


def test_a_big_library_costs_a_few_plex_requests_not_one_per_artist(settings):
    with start(library_of(2000, seed=3)) as services:
        configure(settings, services, PLAYLISTER_LASTFM_API_KEY="", PLAYLISTER_SPOTIFY_CLIENT_ID="")
        services.plex.reset_counters()
        result = warm_artist_cache(concurrency=2)
        requests = services.plex.request_count()
    assert result.total == 2000
    assert result.plex == result.written == 2000
    # Artists of one name (the library has a few, on purpose) share an entry.
    names = {normalize_name(a.title) for a in services.plex.library.artists}
    assert ArtistCache.objects.count() == len(names) < 2000
    assert requests / 2000 <= 0.02, requests


def test_provider_calls_start_after_the_first_metadata_batch_not_the_last(settings):
    # Three metadata batches, read one after the other, 100 ms each: Last.fm is asked about
    # the first artists before the last batch is even requested (the warm used to read all
    # of Plex's metadata first).
    artists = 2 * METADATA_BATCH + 50
    with start(library_of(artists, seed=4)) as services:
        configure(settings, services, PLAYLISTER_SPOTIFY_CLIENT_ID="")
        services.plex.reset_counters()
        services.plex.set_latency(0.1)
        result = warm_artist_cache(concurrency=4, skip_cached=False)
        metadata = [r.at for r in services.plex.records("metadata")]
        lastfm = [r.at for r in services.lastfm.records("artist.getTopTags")]
    assert result.total == artists and result.failed == 0
    assert len(metadata) == 3 and len(lastfm) == artists
    assert lastfm[0] < metadata[-1]


def test_a_plex_metadata_failure_fails_the_warm_not_each_item(small):
    # The metadata is read in a thread of its own; its failure must still end the warm
    # with Plex's error rather than be counted as a provider error of every item.
    small.plex.set_faults(FaultPlan(rate_500=1.0, endpoints=frozenset({"metadata"})))
    with pytest.raises(TransientProviderError, match="Plex: metadata request failed"):
        warm_artist_cache(concurrency=4, skip_cached=False)
    assert not ArtistCache.objects.exists()


def _tags(items) -> list[str]:
    """The tag names of plexapi's tag objects (``Genre``, ``Style``, ``Mood``)."""
    return [str(t.tag) for t in items or [] if getattr(t, "tag", None)]


def test_listing_and_tags_read_from_the_xml_match_plexapis_objects(settings):
    with start(library_of(60, seed=9)) as services:
        configure(settings, services)
        library = PlexLibrary(connect())
        artists = library.artists()
        albums = library.albums()
        expected = {
            str(a.ratingKey): (str(a.title), _tags(a.genres))
            for a in library.section.search(libtype="artist")
        }
        tags = dict(library.full_tags([a.rating_key for a in artists]))
        objects = list(library.metadata([a.rating_key for a in artists]))
        album_objects = library.section.search(libtype="album")
    assert {a.rating_key: (a.title, a.genres) for a in artists} == expected
    assert [(a.rating_key, a.title, a.artist) for a in albums] == [
        (str(a.ratingKey), str(a.title), str(a.parentTitle)) for a in album_objects
    ]
    assert tags == {
        str(o.ratingKey): Tags(_tags(o.genres), _tags(o.styles), _tags(o.moods)) for o in objects
    }
    assert any(t.styles for t in tags.values()) and any(t.moods for t in tags.values())


def test_warm_merges_plex_and_lastfm_and_counts_sources(small):
    progress = MemoryProgress()
    result = warm_artist_cache(concurrency=4, progress=progress)
    assert result.total == 40
    assert result.failed == 0
    snap = progress.snapshot()
    assert snap.current == 40
    assert snap.source_counts["plex"] == result.plex > 0
    assert snap.source_counts.get("lastfm", 0) == result.lastfm > 0
    entry = ArtistCache.objects.exclude(sources=["plex"]).first()
    assert entry is not None and "lastfm" in entry.sources
    assert entry.genres == list(dict.fromkeys(entry.genres))  # no duplicates
    ignored = {"seen live", "favorite", "favourites", "albums i own", "beautiful"}
    for row in ArtistCache.objects.all():
        assert row.genres, row.name  # empty results are not cached
        assert not ignored & set(row.genres)
        assert row.genres == [g.lower() for g in row.genres]
        days = (row.expires_at - row.cached_at).total_seconds() / 86400
        assert 81 <= days <= 99


def test_dry_run_writes_nothing_and_skip_cached_calls_no_provider(small):
    dry = warm_artist_cache(dry_run=True)
    assert dry.dry_run and dry.written == 0
    assert not ArtistCache.objects.exists()

    warm_artist_cache()
    cached = set(ArtistCache.objects.values_list("normalized_name", flat=True))
    small.lastfm.reset_counters()
    small.spotify.reset_counters()
    again = warm_artist_cache(skip_cached=True)
    # Every Plex artist whose name has an entry, duplicates included.
    artists = small.plex.library.artists
    assert again.cached == sum(1 for a in artists if normalize_name(a.title) in cached)
    # artists that gave nothing before are asked again; cached ones are not
    asked = {r.query.get("artist") for r in small.lastfm.records("artist.getTopTags")}
    assert not asked & set(ArtistCache.objects.values_list("name", flat=True))
    assert again.total - again.cached == len(asked) + again.failed


def test_failing_lastfm_calls_are_retried_counted_and_never_crash(settings):
    library = library_of(120, seed=5)
    # Requests say only the name: follow each item through its requests where it is the
    # only artist of its name (the library has an exact duplicate or so, on purpose).
    shared = {n for n, count in Counter(a.title for a in library.artists).items() if count > 1}
    with start(library) as services:
        configure(settings, services, PLAYLISTER_HTTP_TIMEOUT=0.4, PLAYLISTER_HTTP_ATTEMPTS=3)
        services.lastfm.set_faults(
            FaultPlan(
                rate_429=0.08,
                retry_after=1,
                rate_500=0.06,
                rate_timeout=0.03,
                timeout_seconds=1.0,
                rate_malformed=0.03,
                seed=42,
            )
        )
        result = warm_artist_cache(concurrency=6)
        records = services.lastfm.records("artist.getTopTags")

    per_artist = defaultdict(list)
    for record in records:
        if record.query["artist"] not in shared:
            per_artist[record.query["artist"]].append(record)
    injected = sum(1 for r in records if r.fault)
    assert injected >= 0.15 * len(records)
    unrecovered = sum(1 for rs in per_artist.values() if all(r.fault for r in rs))
    sharing = sum(1 for a in library.artists if a.title in shared)
    assert unrecovered <= result.failed <= unrecovered + sharing
    assert result.total == 120
    assert result.written + result.failed + result.empty == 120
    assert 0 < ArtistCache.objects.count() <= result.written  # duplicates share an entry
    # every 429 was followed by a wait of at least its Retry-After
    for rs in per_artist.values():
        for first, second in itertools.pairwise(rs):
            if first.fault == "429":
                assert second.at - first.at >= 0.95


# A job's reporter thread writes its row from another connection: with SQLite, a test that
# runs a job must not hold the write lock in an open test transaction.
@pytest.mark.django_db(transaction=True)
def test_an_invalid_lastfm_key_fails_fast_naming_the_setting(small, settings):
    settings.PLAYLISTER_LASTFM_API_KEY = "wrong-key"
    started = time.monotonic()
    job = run_direct("cache-warm", {})
    assert job.status == JobStatus.FAILED
    assert "PLAYLISTER_LASTFM_API_KEY" in job.error
    assert "\n" not in job.error
    assert "wrong-key" not in job.error
    assert time.monotonic() - started < 5


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_plex_fails_naming_the_url(settings):
    settings.PLAYLISTER_PLEX_URL = "http://127.0.0.1:9"
    settings.PLAYLISTER_PLEX_TOKEN = "secret-token"
    job = run_direct("cache-warm", {})
    assert job.status == JobStatus.FAILED
    assert "http://127.0.0.1:9" in job.error and "PLAYLISTER_PLEX_URL" in job.error
    assert "secret-token" not in job.error
    with pytest.raises(ProviderConfigError, match="set PLAYLISTER_PLEX_URL"):
        settings.PLAYLISTER_PLEX_URL = ""
        warm_artist_cache()


def test_albums_take_plex_then_lastfm_then_the_artist(small):
    warm_artist_cache()
    result = warm_album_cache(concurrency=3)
    assert result.failed == 0
    assert result.written == result.total > 0
    # Albums of one (artist, title) — the library has a few, on purpose — share an entry.
    library = small.plex.library
    keys = {
        (normalize_name(library.artist(b.artist_key).title), normalize_name(b.title))
        for b in library.albums
    }
    assert AlbumCache.objects.count() == len(keys) < result.total
    assert result.plex > 0
    assert all(row.genres for row in AlbumCache.objects.all())


def test_refresh_takes_due_entries_hot_first_up_to_the_limit(small):
    warm_artist_cache()
    now = timezone.now()
    rows = list(ArtistCache.objects.order_by("id"))
    hot, warm, cold, fresh = rows[0], rows[1], rows[2], rows[3]
    ArtistCache.objects.filter(pk=hot.pk).update(
        last_used_at=now - timedelta(days=2), cached_at=now - timedelta(days=70)
    )
    ArtistCache.objects.filter(pk=warm.pk).update(
        last_used_at=now - timedelta(days=90), cached_at=now - timedelta(days=130)
    )
    ArtistCache.objects.filter(pk=cold.pk).update(
        last_used_at=None, cached_at=now - timedelta(days=400)
    )
    ArtistCache.objects.filter(pk=fresh.pk).update(last_used_at=now)
    due = due_for_refresh(ArtistCache, now=now, limit=10)
    assert [e.pk for e in due] == [hot.pk, warm.pk, cold.pk]
    result = refresh_cache(limit=2)
    assert result.total == 2
    refreshed = ArtistCache.objects.get(pk=hot.pk)
    assert refreshed.cached_at > now - timedelta(minutes=5)
    assert ArtistCache.objects.get(pk=cold.pk).cached_at < now - timedelta(days=300)


@pytest.mark.django_db(transaction=True)
def test_a_warm_records_each_providers_requests_errors_and_waits_in_its_usage(settings):
    # The job's usage (what /metrics adds up) is what the servers saw, from every thread.
    with start(library_of(60, seed=8)) as services:
        configure(
            settings,
            services,
            PLAYLISTER_SPOTIFY_CLIENT_ID="",
            PLAYLISTER_HTTP_ATTEMPTS=3,
            PLAYLISTER_LASTFM_RATE=20.0,
        )
        services.lastfm.set_faults(FaultPlan(rate_500=0.1, seed=7))
        services.plex.reset_counters()
        services.lastfm.reset_counters()
        job = run_direct("cache-warm", {"concurrency": 3, "skip_cached": False})
        plex_requests = services.plex.request_count()
        lastfm = services.lastfm.records()
    assert job.status == JobStatus.SUCCESS
    assert set(job.usage) == {"Plex", "Last.fm"}
    assert job.usage["Plex"] == {"requests": plex_requests, "errors": 0, "wait_seconds": 0.0}
    assert job.usage["Last.fm"]["requests"] == len(lastfm) > 60  # retries count too
    assert job.usage["Last.fm"]["errors"] == sum(1 for r in lastfm if r.fault) > 0
    # 20 requests a second, from three threads: more than 60 requests wait for a window.
    assert job.usage["Last.fm"]["wait_seconds"] > 0.1
