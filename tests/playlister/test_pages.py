"""The Playlists page, a generation's page and its exports, through the test client."""

from __future__ import annotations

import csv
import io
import re

import pytest

from enrichment.fakes.shapes import VARIOUS_ARTISTS
from jobs.models import JobRun, JobStatus, Trigger
from jobs.schedules import services as schedules
from playlister.models import CustomPlaylist, ManagedPlaylist, Playlist
from playlister.services import generate_custom_playlists, generate_playlist
from playlister.windows import Window
from tests.enrichment.helpers import NOW, library_of, serving

LIBRARY = library_of(120, seed=11)
HTMX = {"HTTP_HX_REQUEST": "true"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def fakes(settings):
    with serving(settings, LIBRARY) as services:
        yield services


def _card(html: str, key: str) -> str:
    dom_id = "card-" + key.replace(":", "-")
    found = re.search(rf'<article[^>]*id="{dom_id}".*?</article>', html, re.S)
    assert found, f"no card {dom_id}"
    return found.group(0)


def test_one_card_per_managed_playlist_with_its_last_generation_and_next_run(
    client_in, fakes
) -> None:
    custom = CustomPlaylist.objects.create(name="Rock Hour", genres=["rock"])
    schedules.create(
        name="daily-morning",
        job_type="playlist",
        params={"window": "morning"},
        cron_expression="0 5 * * *",
        label="Morning playlist",
    )
    result = generate_playlist(window="morning", now=NOW, job_id=4242)
    playlist = Playlist.objects.get(job_id=4242)
    managed = ManagedPlaylist.objects.get(key="morning")

    html = client_in.get("/playlists/").content.decode()

    for key in (*Window, f"custom:{custom.pk}"):
        _card(html, key)
    morning = _card(html, "morning")
    assert "🌅 Daily Morning Mix" in morning
    assert f'href="/playlists/{playlist.pk}/"' in morning
    assert 'href="/jobs/4242/"' in morning
    assert f"{result.tracks} · " in morning
    assert re.search(r'<time datetime="[^"]+">\w{3} \d\d \w{3} 05:00 UTC</time>', morning)
    expected = (
        f"https://app.plex.tv/desktop/#!/server/{managed.plex_machine_identifier}"
        f"/playlist?key=%2Fplaylists%2F{managed.plex_rating_key}"
    )
    assert f'href="{expected}"' in morning
    assert "never" in _card(html, "evening")
    assert "not scheduled" in _card(html, "evening")


def test_generate_now_queues_the_playlists_job_and_the_card_follows_it(client_in) -> None:
    custom = CustomPlaylist.objects.create(name="Calm", moods=["calm"], enabled=False)

    response = client_in.post("/playlists/card/evening/generate", **HTMX)
    job = JobRun.objects.get()
    assert (job.job_type, job.params, job.trigger) == (
        "playlist",
        {"window": "evening", "dry_run": False, "seed": None},
        Trigger.WEB,
    )
    card = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "jobs-changed"
    assert 'hx-trigger="every 1s"' in card and f"#{job.pk}" in card

    # A second click while it waits: the same job, said so.
    again = client_in.post("/playlists/card/evening/generate", **HTMX).content.decode()
    assert JobRun.objects.count() == 1 and f"Already queued: job #{job.pk}" in again

    client_in.post(f"/playlists/card/custom:{custom.pk}/generate", **HTMX)
    custom_job = JobRun.objects.get(job_type="custom-playlists")
    assert custom_job.params["custom"] == custom.pk and not custom_job.params["dry_run"]


def test_a_card_stops_polling_when_nothing_runs_and_a_finished_preview_opens(client_in, fakes):
    quiet = client_in.get("/playlists/card/morning", **HTMX)
    assert quiet.status_code == 286 and "hx-trigger" not in quiet.content.decode()

    client_in.post("/playlists/card/morning/preview", **HTMX)
    job = JobRun.objects.get()
    assert job.params["dry_run"] is True
    # The worker's part, done here: the preview keeps its tracks, Plex gets nothing.
    result = generate_playlist(window="morning", dry_run=True, now=NOW, job_id=job.pk)
    JobRun.objects.filter(pk=job.pk).update(status=JobStatus.SUCCESS)
    assert fakes.plex.playlists() == []

    done = client_in.get(f"/playlists/card/morning?follow={job.pk}&open=1", **HTMX)
    assert done.status_code == 286
    assert done["HX-Redirect"] == f"/playlists/{result.playlist_id}/"
    assert f'data-job-id="{job.pk}" data-status="success"' in done.content.decode()
    # Someone else's page following the same preview is not sent anywhere.
    other = client_in.get(f"/playlists/card/morning?follow={job.pk}", **HTMX)
    assert other.status_code == 286 and "HX-Redirect" not in other
    # A job id that is no number, or no job of this card, is ignored.
    for junk in ("9" * 40, "\uff11\uff12", "-1", str(job.pk + 1)):
        assert client_in.get(f"/playlists/card/evening?follow={junk}", **HTMX).status_code == 286


def test_a_generation_page_says_why_each_track_is_there_and_what_changed(client_in, fakes):
    first = generate_playlist(window="evening", now=NOW, seed=1)
    second = generate_playlist(window="evening", now=NOW, seed=2)
    page = client_in.get(f"/playlists/{second.playlist_id}/").content.decode()

    stored = Playlist.objects.get(pk=second.playlist_id)
    tracks = list(stored.tracks.order_by("position"))
    rows = re.findall(r'<tr data-key="(\d+)"', page)
    assert rows == [t.rating_key for t in tracks]
    # Artists as Plex credits them, not the normalised (lower-case) key.
    by_key = {str(t.rating_key): t for t in LIBRARY.tracks}
    artists = {LIBRARY.artist(t.artist_key).title for t in LIBRARY.tracks} | {VARIOUS_ARTISTS}
    for t in tracks:
        credit = (
            by_key[t.rating_key].original_title
            or LIBRARY.artist(by_key[t.rating_key].artist_key).title
        )
        assert t.artist == credit
        assert t.artist in artists or by_key[t.rating_key].original_title
    assert any(t.artist != t.artist.lower() for t in tracks)
    # Scores for people: two decimals, and the parts they are made of.
    scores = re.findall(r'class="num score">([^<]+)<', page)
    assert scores and all(re.fullmatch(r"\d\.\d\d", s) for s in scores)
    assert "recency 0." in page and "quality 0." in page
    assert "played in this window lately" in page
    # The difference from the first generation.
    before = set(
        Playlist.objects.get(pk=first.playlist_id).tracks.values_list("rating_key", flat=True)
    )
    now = {t.rating_key for t in tracks}
    assert f"{len(now - before)} added" in page
    assert f"{len(now & before)} kept" in page
    assert f"{len(before - now)} dropped" in page
    assert f'href="/playlists/{first.playlist_id}/"' in page  # in the history too
    assert page.count('<td data-label="Generated">') == 2


def test_exports_m3u8_and_csv(client_in, fakes) -> None:
    generate_playlist(window="discovery", now=NOW)
    stored = Playlist.objects.get(window="discovery")
    tracks = list(stored.tracks.order_by("position"))

    m3u = client_in.get(f"/playlists/{stored.pk}/export.m3u8")
    assert m3u["Content-Type"].startswith("audio/x-mpegurl")
    assert 'attachment; filename="' in m3u["Content-Disposition"]
    lines = m3u.content.decode().splitlines()
    assert lines[0] == "#EXTM3U"
    entries = [line for line in lines if line.startswith("#EXTINF:")]
    assert len(entries) == len(tracks)
    files = {str(t.rating_key): t.file for t in LIBRARY.tracks}
    first = tracks[0]
    assert entries[0] == f"#EXTINF:{round(first.duration_ms / 1000)},{first.artist} - {first.title}"
    assert files[first.rating_key].rsplit(".", 1)[0] in lines[lines.index(entries[0]) + 1]

    data = client_in.get(f"/playlists/{stored.pk}/export.csv").content.decode()
    table = list(csv.DictReader(io.StringIO(data)))
    assert [r["rating_key"] for r in table] == [t.rating_key for t in tracks]
    assert table[0]["artist"] == first.artist


def test_exclusions_are_saved_on_the_page_and_win_over_the_settings(client_in, settings):
    settings.PLAYLISTER_EXCLUDE_GENRES = ["comedy"]
    page = client_in.get("/playlists/").content.decode()
    assert 'value="comedy"' in page and "From the settings" in page

    bad = client_in.post(
        "/playlists/exclusions",
        {"genres": "audiobook", "seasonal": "christmas:13-01:12-26"},
        **HTMX,
    )
    assert bad.status_code == 400
    assert "&#x27;13-01&#x27; is not a day of the year" in bad.content.decode()

    saved = client_in.post(
        "/playlists/exclusions",
        {"genres": "Audiobook, spoken-word", "seasonal": "Christmas: 12-01 : 12-26"},
        **HTMX,
    )
    assert saved.status_code == 200 and "Saved" in saved.content.decode()
    from playlister.exclusions import current_rules

    rules = current_rules()
    assert rules.source == "page" and rules.genres == ("audiobook", "spoken word")
    assert [s.text for s in rules.seasons] == ["christmas:12-01:12-26"]

    client_in.post("/playlists/exclusions/reset", **HTMX)
    assert current_rules().genres == ("comedy",)


def test_edit_a_custom_playlist(client_in) -> None:
    custom = CustomPlaylist.objects.create(name="Calm", moods=["calm"])
    form = client_in.get(f"/playlists/custom/{custom.pk}/").content.decode()
    assert 'value="Calm"' in form and 'list="genre-choices"' in form

    response = client_in.post(
        f"/playlists/custom/{custom.pk}/",
        {"name": "Calm Rock", "genres": "rock", "moods": "calm", "target_size": 30,
         "strategy": "quality", "enabled": "on"},
        follow=True,
    )  # fmt: skip
    custom.refresh_from_db()
    assert (custom.name, custom.genres, custom.target_size) == ("Calm Rock", ["rock"], 30)
    assert "Saved &#x27;Calm Rock&#x27;." in response.content.decode()


def test_three_genres_get_one_message_in_the_error_colour(client_in) -> None:
    response = client_in.post(
        "/playlists/",
        {"name": "X", "genres": "a, b, c", "target_size": 50, "strategy": "balanced"},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count("At most 2 genres.") == 1
    assert "Choose at least one genre or mood." not in html
    assert re.search(r'class="errors" role="alert"><ul class="errorlist"[^>]*><li>At most 2', html)
    assert not CustomPlaylist.objects.exists()


def test_the_pickers_offer_the_caches_genres_with_track_counts(client_in) -> None:
    from enrichment.models import AlbumCache, ArtistCache, AudioFeatures

    ArtistCache.objects.create(name="Björk", normalized_name="bjork", genres=["electronic"])
    AlbumCache.objects.create(
        artist_name="Björk", album_name="Post", normalized_artist="bjork",
        normalized_album="post", genres=["art pop"], moods=["playful"],
    )  # fmt: skip
    for n in range(3):
        AudioFeatures.objects.create(rating_key=str(n), artist="Björk", album="Post")

    html = client_in.get("/playlists/tags").content.decode()
    assert '<option value="art pop" label="art pop · 3 tracks, 0 artists">' in html
    assert '<option value="electronic" label="electronic · 3 tracks, 1 artist">' in html
    assert '<option value="playful"' in html.split('id="mood-choices"')[1]


def test_custom_playlists_generate_one_on_its_own(fakes) -> None:
    rock = CustomPlaylist.objects.create(name="Rock", genres=["rock"], enabled=False)
    CustomPlaylist.objects.create(name="Calm", moods=["calm"])
    outcome = generate_custom_playlists(custom=rock.pk, now=NOW, dry_run=True)
    assert [p.title for p in outcome.playlists] == ["Rock"]


def test_creating_a_custom_playlist_says_so_and_its_card_appears(client_in) -> None:
    response = client_in.post(
        "/playlists/",
        {"name": "Rainy", "genres": "folk", "target_size": 30, "strategy": "quality"},
        **HTMX,
    )
    assert response["HX-Trigger"] == "playlists-changed"
    assert "Created &#x27;Rainy&#x27;" in response.content.decode()
    custom = CustomPlaylist.objects.get()
    cards = client_in.get("/playlists/cards", **HTMX).content.decode()
    assert "Rainy" in _card(cards, f"custom:{custom.pk}")


def test_a_custom_playlist_deleted_before_its_run_fails_the_run_saying_so(fakes) -> None:
    from jobs.registry import JobError

    with pytest.raises(JobError, match="There is no custom playlist with id 999"):
        generate_custom_playlists(custom=999, now=NOW)
