"""Managed playlists: written in place to the Plex playlist they own, nothing else touched."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from plexapi.server import PlexServer

from enrichment.fakes import FaultPlan
from enrichment.warm import warm_artist_cache
from jobs.models import JobStatus
from jobs.runner import run_direct
from playlister.models import CustomPlaylist, ManagedPlaylist, Playlist
from playlister.services import generate_custom_playlists, generate_playlist
from tests.enrichment.helpers import NOW, library_of, serving

LIBRARY = library_of(120, seed=11)
MORNING = "🌅 Daily Morning Mix"

pytestmark = pytest.mark.django_db


@pytest.fixture
def fakes(settings):
    with serving(settings, LIBRARY) as services:
        yield services


def _theirs(fakes, title: str = MORNING):
    """A playlist the person made in Plex themselves."""
    return fakes.plex.create_playlist(title, [t.rating_key for t in LIBRARY.tracks[:4]])


def _touching(fakes, rating_key: int) -> list[str]:
    """Requests that named this playlist."""
    return [
        f"{r.method} {r.path}"
        for r in fakes.plex.records()
        if re.fullmatch(rf"/playlists/{rating_key}(/.*)?", r.path)
    ]


def test_a_new_generation_replaces_the_playlist_in_place(fakes) -> None:
    first = generate_playlist(window="morning", now=NOW)
    assert first.created
    (before,) = fakes.plex.playlists()
    fakes.plex.reset_counters()

    second = generate_playlist(window="morning", now=NOW, seed=99)

    assert not second.created and second.plex_key == first.plex_key
    (after,) = fakes.plex.playlists()
    assert (after.rating_key, after.guid, after.title) == (before.rating_key, before.guid, MORNING)
    assert after.summary == second.summary != before.summary
    latest = Playlist.objects.get(plex_key=second.plex_key, seed=second.seed)
    assert [t.rating_key for t in latest.tracks.order_by("position")] == [
        str(k) for k in after.item_keys
    ]
    # In place: no playlist deleted, none created.
    assert fakes.plex.request_count("playlist_delete") == 0
    assert fakes.plex.request_count("playlist_create") == 0
    managed = ManagedPlaylist.objects.get(key="morning")
    assert managed.plex_rating_key == str(after.rating_key)
    assert (managed.plex_guid, managed.plex_machine_identifier) == (
        after.guid,
        fakes.plex.machine_identifier,
    )
    assert managed.generations.count() == 2


def test_a_persons_playlist_titled_like_ours_survives_ten_generations(fakes) -> None:
    theirs = _theirs(fakes)
    fakes.plex.reset_counters()

    for n in range(10):
        generate_playlist(window="morning", now=NOW + timedelta(hours=n), seed=n)

    views = {v.rating_key: v for v in fakes.plex.playlists()}
    assert len(views) == 2
    assert views[theirs.rating_key] == theirs  # items, title, summary, updated_at: untouched
    assert _touching(fakes, theirs.rating_key) == []
    assert fakes.plex.request_count("playlist_delete") == 0
    assert fakes.plex.request_count("playlist_create") == 1


def test_a_playlist_deleted_in_plex_is_created_anew(fakes) -> None:
    first = generate_playlist(window="discovery", now=NOW)
    plexapi = PlexServer(fakes.plex_url, fakes.plex_token)
    plexapi.fetchItem(f"/playlists/{first.plex_key}").delete()

    second = generate_playlist(window="discovery", now=NOW, seed=2)

    assert second.created and second.plex_key != first.plex_key
    (view,) = fakes.plex.playlists()
    assert str(view.rating_key) == second.plex_key
    assert ManagedPlaylist.objects.get(key="discovery").plex_rating_key == second.plex_key


def test_a_first_write_whose_summary_fails_is_kept_and_never_made_twice(fakes) -> None:
    # Plex created the playlist, then refused to set its summary: the playlist is ours all
    # the same, so the next generation writes to it instead of creating another.
    fakes.plex.set_faults(FaultPlan(rate_500=1.0, endpoints=frozenset({"playlist_edit"})))
    first = generate_playlist(window="discovery", now=NOW)
    fakes.plex.set_faults(None)

    second = generate_playlist(window="discovery", now=NOW, seed=2)

    (view,) = fakes.plex.playlists()
    assert str(view.rating_key) == first.plex_key == second.plex_key
    assert not second.created and view.summary == second.summary
    assert fakes.plex.request_count("playlist_create") == 1


def test_renaming_a_managed_title_renames_the_playlist_in_plex(fakes, settings) -> None:
    first = generate_playlist(window="morning", now=NOW)
    settings.PLAYLISTER_PLAYLIST_TITLES = {
        **settings.PLAYLISTER_PLAYLIST_TITLES,
        "morning": "Mañana ☕ — Frühstück",
    }

    second = generate_playlist(window="morning", now=NOW, seed=3)

    (view,) = fakes.plex.playlists()
    assert (view.title, str(view.rating_key)) == ("Mañana ☕ — Frühstück", first.plex_key)
    assert second.plex_key == first.plex_key and second.title == view.title
    assert ManagedPlaylist.objects.get(key="morning").title == view.title


@pytest.mark.parametrize(
    ("machine", "guid", "title"),
    [
        ("another-server", None, MORNING),  # written to another server: a key there
        (None, "com.plexapp.agents.none://someone-else", MORNING),  # not the playlist we made
        ("", "", "Daily Morning Mix"),  # from before identities, but retitled since
    ],
)
def test_a_stored_key_that_is_not_ours_here_is_never_touched(fakes, machine, guid, title) -> None:
    theirs = _theirs(fakes)
    ManagedPlaylist.objects.create(
        key="morning",
        title=title,
        plex_rating_key=str(theirs.rating_key),
        plex_guid=theirs.guid if guid is None else guid,
        plex_machine_identifier=fakes.plex.machine_identifier if machine is None else machine,
    )
    fakes.plex.reset_counters()

    result = generate_playlist(window="morning", now=NOW)

    assert result.created and result.plex_key != str(theirs.rating_key)
    assert fakes.plex.playlists()[0] == theirs
    assert [p for p in _touching(fakes, theirs.rating_key) if not p.startswith("GET")] == []


def test_a_playlist_written_before_identities_were_stored_is_adopted(fakes) -> None:
    # What the migration leaves for a playlist written by the old code: its key and title.
    old = _theirs(fakes, "Daily Morning Mix")
    ManagedPlaylist.objects.create(
        key="morning", title="Daily Morning Mix", plex_rating_key=str(old.rating_key)
    )

    result = generate_playlist(window="morning", now=NOW)

    (view,) = fakes.plex.playlists()
    assert not result.created and view.rating_key == old.rating_key
    assert view.title == MORNING and view.item_keys != old.item_keys
    managed = ManagedPlaylist.objects.get(key="morning")
    assert managed.plex_machine_identifier == fakes.plex.machine_identifier


def test_a_custom_playlist_is_updated_in_place_and_renamed_with_it(fakes) -> None:
    warm_artist_cache()
    custom = CustomPlaylist.objects.create(name="Rock Hour", genres=["rock"], target_size=20)
    theirs = _theirs(fakes, "Rock Hour")
    (first,) = generate_custom_playlists(now=NOW).playlists
    CustomPlaylist.objects.filter(pk=custom.pk).update(name="Rock 'n' Roll 🎸")

    (second,) = generate_custom_playlists(now=NOW + timedelta(days=1)).playlists

    assert second.plex_key == first.plex_key and not second.created
    titles = {v.title for v in fakes.plex.playlists()}
    assert titles == {"Rock Hour", "Rock 'n' Roll 🎸"}  # theirs, and ours renamed
    assert fakes.plex.playlists()[0] == theirs
    managed = ManagedPlaylist.objects.get(key=f"custom:{custom.pk}")
    assert managed.custom == custom and managed.generations.count() == 2


def test_the_summary_is_in_the_configured_time_zone(fakes, settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    result = generate_playlist(
        window="morning", now=datetime(2026, 12, 1, 4, 0, tzinfo=UTC), dry_run=True
    )
    assert re.fullmatch(
        r"50 tracks • \d+h \d\dm • Morning • Updated 2026-12-01 05:00", result.summary
    ), result.summary


@pytest.mark.django_db(transaction=True)
def test_the_job_is_linked_and_says_what_plex_data_it_skipped(settings) -> None:
    library = library_of(80, seed=12, now=datetime.now(UTC))  # the job runs at the real now
    with serving(settings, library) as fakes:
        job = run_direct("playlist", {"window": "morning"})

        metadata = [r.path for r in fakes.plex.records("metadata")]
    assert job.status == JobStatus.SUCCESS, job.error
    assert job.started_at is not None
    # The daily mix reads 30 days back from when it started (whole seconds, as Plex has).
    since = int((job.started_at - timedelta(days=30)).timestamp())
    removed = sum(
        1
        for p in library.plays
        if p.viewed_at.timestamp() >= since and library.item(p.track_key) is None
    )
    assert removed and job.result is not None
    assert job.result["removed_plays"] == removed
    assert f"{removed} plays of removed tracks ignored" in job.result["notes"]
    generation = Playlist.objects.get()
    assert generation.job_id == job.pk
    assert generation.managed == ManagedPlaylist.objects.get(key="morning")
    assert metadata and not any("None" in path for path in metadata)
