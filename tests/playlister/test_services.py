"""Playlist generation against the fake Plex over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction

from enrichment.warm import warm_artist_cache
from jobs import services as jobs
from jobs.models import ACTIVE_STATUSES, JobRun, JobStatus
from jobs.runner import run_direct
from playlister.models import CustomPlaylist, Playlist, PlaylistTrack
from playlister.services import generate_custom_playlists, generate_playlist
from tests.cluster import wait_for
from tests.enrichment.helpers import NOW, configure, env_for, library_of, start

LIBRARY = library_of(120, seed=11)


@pytest.fixture
def plex(settings):
    services = start(LIBRARY)
    configure(settings, services)
    yield services
    services.stop()


def _titles(fake):
    return [p.title for p in fake.plex.playlists()]


@pytest.mark.django_db
def test_a_window_playlist_is_written_once_and_replaced_on_the_next_run(plex):
    first = generate_playlist(window="morning", now=NOW)
    assert first.tracks == 50
    assert _titles(plex) == ["🌅 Daily Morning Mix"]
    (written,) = plex.plex.playlists()
    assert written.summary == first.summary
    assert (
        written.summary.startswith("50 tracks • ")
        and " • Morning • Updated 2026-11-01 12:00" in written.summary
    )
    stored = Playlist.objects.get()
    assert [t.rating_key for t in stored.tracks.order_by("position")] == [
        str(k) for k in written.item_keys
    ]

    second = generate_playlist(window="morning", now=NOW, seed=99)
    assert _titles(plex) == ["🌅 Daily Morning Mix"]  # replaced, no duplicate
    assert plex.plex.playlists()[0].summary == second.summary
    assert Playlist.objects.count() == 2  # history keeps both


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_playlist(plex):
    a = generate_playlist(window="evening", now=NOW, seed=5, dry_run=True)
    b = generate_playlist(window="evening", now=NOW, seed=5, dry_run=True)
    assert a.tracks == b.tracks == 50
    assert not plex.plex.playlists()  # dry runs write nothing to Plex …
    # … and are kept as previews, with the same tracks.
    first, second = (Playlist.objects.get(pk=r.playlist_id) for r in (a, b))
    assert first.dry_run and second.dry_run and not first.plex_key
    assert list(first.tracks.values_list("rating_key", flat=True)) == list(
        second.tracks.values_list("rating_key", flat=True)
    )


@pytest.mark.django_db
def test_tracks_of_other_recent_playlists_are_excluded(plex):
    generate_playlist(window="afternoon", now=NOW)
    taken = set(PlaylistTrack.objects.values_list("rating_key", flat=True))
    generate_playlist(window="evening", now=NOW)
    evening = Playlist.objects.get(window="evening")
    assert not taken & set(evening.tracks.values_list("rating_key", flat=True))


@pytest.mark.django_db
def test_discovery_and_throwback_mixes(plex):
    discovery = generate_playlist(window="discovery", now=NOW)
    throwback = generate_playlist(window="throwback", now=NOW)
    assert discovery.tracks == 50
    assert throwback.tracks > 0
    assert sorted(_titles(plex)) == ["⏪ Weekly Throwback", "🔍 Weekly Discovery"]
    recent = {
        str(t.rating_key)
        for t in LIBRARY.tracks
        if t.last_viewed_at and (NOW - t.last_viewed_at).days <= 90
    }
    assert recent
    chosen = set(
        Playlist.objects.get(window="discovery").tracks.values_list("rating_key", flat=True)
    )
    assert not chosen & recent


@pytest.mark.django_db
def test_a_genre_playlist_holds_only_that_genre(plex):
    warm_artist_cache()
    genre = "rock"
    CustomPlaylist.objects.create(name="Rock Hour", genres=[genre], target_size=20)
    result = generate_custom_playlists(now=NOW)
    (written,) = result.playlists
    assert written.tracks > 0
    assert _titles(plex) == ["Rock Hour"]
    for track in Playlist.objects.get(title="Rock Hour").tracks.all():
        assert track.genre == genre


@pytest.mark.django_db(transaction=True)
def test_the_playlist_job_through_a_cluster(cluster_factory):
    library = library_of(80, seed=12, now=datetime.now(UTC))
    with start(library) as fakes:
        cluster_factory.new(**env_for(fakes))
        with transaction.atomic():
            job_id = jobs.enqueue(job_type="playlist", params={"window": "evening"}).pk
        wait_for(
            lambda: JobRun.objects.get(pk=job_id).status not in ACTIVE_STATUSES,
            timeout=60,
        )
        job = JobRun.objects.get(pk=job_id)
        assert job.status == JobStatus.SUCCESS, job.error
        assert job.window == "evening"
        assert [p.title for p in fakes.plex.playlists()] == ["🌙 Daily Evening Mix"]
        assert job.result["tracks"] == len(fakes.plex.playlists()[0].item_keys)


@pytest.mark.django_db(transaction=True)
def test_the_cli_route_records_a_job(plex):
    job = run_direct("playlist", {"window": "afternoon", "seed": 3})
    assert job.status == JobStatus.SUCCESS
    assert _titles(plex) == ["☀️ Daily Afternoon Mix"]
