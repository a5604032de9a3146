"""Duplicate names through the cache warmers: the same artist twice, the same (artist, album)
twice, in one spelling or in another case or Unicode form (the generator puts each kind into
every library). On PostgreSQL one upsert touching a row twice fails the whole job; on any
backend the entry must hold what every duplicate gave."""

from __future__ import annotations

from collections import defaultdict

import pytest

from enrichment.fakes import Library
from enrichment.models import AlbumCache, ArtistCache
from enrichment.names import normalize_name
from enrichment.tags import merge_tags
from jobs import services
from jobs.models import JobRun, JobStatus
from tests.cluster import wait_for
from tests.enrichment.helpers import env_for, library_of, start

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


def _artists_by_key(library: Library) -> dict[str, list[set[str]]]:
    """Each normalised artist name with the Plex tags of every artist of that name."""
    found: dict[str, list[set[str]]] = defaultdict(list)
    for a in library.artists:
        found[normalize_name(a.title)].append(set(merge_tags(a.genres, a.styles)))
    return found


def _albums_by_key(library: Library) -> dict[tuple[str, str], list[set[str]]]:
    found: dict[tuple[str, str], list[set[str]]] = defaultdict(list)
    for b in library.albums:
        key = (normalize_name(library.artist(b.artist_key).title), normalize_name(b.title))
        found[key].append(set(merge_tags(b.genres, b.styles)))
    return found


def _run(job_type: str) -> JobRun:
    job_id = services.enqueue(job_type=job_type, params={"concurrency": 4}).pk
    wait_for(
        lambda: JobRun.objects.get(pk=job_id).is_finished,
        timeout=120,
        what=f"{job_type} to finish",
    )
    return JobRun.objects.get(pk=job_id)


# 20 artists: every item of a warm in one batch of 50 (duplicates in one upsert); 150: three
# batches, so the duplicates of a key may also land in different upserts.
@pytest.mark.parametrize("artists", [20, 150])
def test_warm_and_album_warm_over_duplicate_names_through_a_cluster(cluster_factory, artists):
    library = library_of(artists, seed=artists)
    by_artist, by_album = _artists_by_key(library), _albums_by_key(library)
    assert any(len(tags) > 1 for tags in by_artist.values())
    assert any(len(tags) > 1 for tags in by_album.values())
    with start(library) as fakes:
        cluster_factory.new(**env_for(fakes))
        warm = _run("cache-warm")
        albums = _run("cache-albums")

    assert (warm.status, warm.error) == (JobStatus.SUCCESS, "")
    assert (albums.status, albums.error) == (JobStatus.SUCCESS, "")
    assert warm.result["written"] == len(library.artists)
    assert albums.result["written"] == len(library.albums)
    entries = {e.normalized_name: e for e in ArtistCache.objects.all()}
    assert set(entries) == set(by_artist)
    for key, tags in by_artist.items():
        # One entry per name, holding the Plex tags of every artist of that name.
        assert set().union(*tags) <= set(entries[key].genres), key
    album_entries = {(e.normalized_artist, e.normalized_album): e for e in AlbumCache.objects.all()}
    assert set(album_entries) == set(by_album)
    for pair, tags in by_album.items():
        assert set().union(*tags) <= set(album_entries[pair].genres), pair
