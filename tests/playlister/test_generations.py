"""What a generation keeps and how it is made: the mix's shape on real features, previews,
the Plex requests a daily mix costs, the admin's read-only record."""

from __future__ import annotations

import random
import statistics

import pytest
from django.contrib.auth import get_user_model

from enrichment.models import AudioFeatures
from enrichment.warm import warm_artist_cache
from playlister.generations import PREVIEWS_KEPT
from playlister.models import CustomPlaylist, Playlist
from playlister.services import generate_custom_playlists, generate_playlist
from tests.enrichment.helpers import NOW, library_of, serving

LIBRARY = library_of(120, seed=11)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fakes(settings):
    with serving(settings, LIBRARY) as services:
        yield services


def test_a_morning_mix_rises_where_audiomuse_analysed_its_tracks(fakes) -> None:
    rng = random.Random(3)
    analysed = {str(t.rating_key) for t in LIBRARY.tracks if rng.random() < 0.7}
    AudioFeatures.objects.bulk_create(
        AudioFeatures(
            rating_key=key, energy=rng.uniform(0.1, 0.9), tempo=rng.uniform(70, 170), key="C"
        )
        for key in sorted(analysed)
    )
    generate_playlist(window="morning", now=NOW, dry_run=True)
    playlist = Playlist.objects.get(window="morning")
    tracks = list(playlist.tracks.order_by("position"))
    features = AudioFeatures.objects.in_bulk(
        [t.rating_key for t in tracks], field_name="rating_key"
    )
    energies = [features[t.rating_key].energy or 0.0 for t in tracks if t.rating_key in features]
    assert playlist.details["shaped"] == len(energies) > 10
    assert statistics.linear_regression(range(len(energies)), energies).slope > 0
    # The tracks AudioMuse never analysed keep their place by score.
    unanalysed = [t for t in tracks if t.rating_key not in features]
    assert [t.score for t in unanalysed] == sorted((t.score for t in unanalysed), reverse=True)
    assert all(t.why["fit"] is not None for t in tracks if t.rating_key in features)


def test_a_genre_playlist_is_not_reported_relaxed(fakes) -> None:
    warm_artist_cache()
    CustomPlaylist.objects.create(name="Rock", genres=["rock"], target_size=10)
    (result,) = generate_custom_playlists(now=NOW).playlists
    assert result.tracks == 10 and not result.relaxed


def test_only_the_latest_previews_are_kept(fakes) -> None:
    ids = [
        generate_playlist(window="evening", now=NOW, seed=n, dry_run=True).playlist_id
        for n in range(PREVIEWS_KEPT + 2)
    ]
    kept = list(Playlist.objects.filter(dry_run=True).order_by("id").values_list("id", flat=True))
    assert kept == ids[-PREVIEWS_KEPT:]


def test_a_daily_mix_asks_plex_for_its_best_window_tracks_only(fakes) -> None:
    fakes.plex.reset_counters()
    result = generate_playlist(window="evening", now=NOW)
    assert result.tracks == 50
    assert fakes.plex.request_count("metadata") <= 5  # 4 pools of 100 at most, and the write
    assert fakes.plex.request_count() <= 20


def test_generations_and_their_tracks_are_read_only_in_the_admin(client, fakes) -> None:
    generate_playlist(window="evening", now=NOW)
    stored = Playlist.objects.get(window="evening")
    admin = get_user_model().objects.create_superuser("root", password="pw-for-tests")
    client.force_login(admin)
    assert client.get("/admin/playlister/playlist/add/").status_code == 403
    page = client.get(f"/admin/playlister/playlist/{stored.pk}/change/").content.decode()
    assert 'name="_save"' not in page and 'name="tracks-0-title"' not in page
    scores = list(stored.tracks.values_list("score", flat=True))
    assert all(f"{s:.2f}" in page and repr(s) not in page for s in scores)
