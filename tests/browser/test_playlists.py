"""The Playlists page in a real browser, on a real cluster that talks to the fake Plex."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from jobs.models import JobRun, JobStatus, Trigger
from playlister.models import Playlist
from tests.enrichment.helpers import env_for, library_of, start

pytestmark = [pytest.mark.cluster]

WRITES = ("playlist_create", "playlist_add", "playlist_clear", "playlist_edit", "playlist_delete")


@pytest.fixture(scope="module")
def fakes():
    # Plays up to now: the daily windows have a month of history to choose from.
    with start(library_of(80, seed=12, now=datetime.now(UTC))) as services:
        yield services


@pytest.fixture
def plex_cluster(page, cluster_factory, fakes):
    """A cluster whose workers reach the fake Plex (the shared one does not)."""
    fakes.plex.reset_counters()
    return cluster_factory.new("playlists", **env_for(fakes))


def _writes(fakes) -> int:
    return sum(fakes.plex.request_count(endpoint) for endpoint in WRITES)


def _generate(page, key: str) -> int:
    """Click "Generate now" on a card and wait for its job to succeed; its id."""
    card = page.locator(f"#card-{key}")
    card.get_by_role("button", name="Generate now").click()
    note = page.locator(f"#card-{key} .note")
    expect(note).to_contain_text("Generation queued: job #")
    found = re.search(r"#(\d+)", note.inner_text())
    assert found is not None
    job_id = int(found.group(1))
    progress = page.locator(f"#card-{key} .job-progress")
    expect(progress).to_have_attribute("data-job-id", str(job_id))
    expect(page.locator(f"#card-{key}")).to_have_attribute("data-active", "false", timeout=30_000)
    expect(page.locator(f"#card-{key} .job-progress .badge")).to_have_text("success")
    job = JobRun.objects.get(pk=job_id)
    assert (job.status, job.trigger, job.params["window"]) == (JobStatus.SUCCESS, Trigger.WEB, key)
    return job_id


def test_generate_open_exclude_generate_again_and_see_the_difference(
    page, plex_cluster, fakes, artifacts
) -> None:
    page.get_by_role("link", name="Playlists").click()
    expect(page.locator(".playlist-card")).to_have_count(5)

    first_job = _generate(page, "evening")
    last = page.locator("#card-evening .last")
    expect(last.locator(f'a[href="/jobs/{first_job}/"]')).to_be_visible()
    first = Playlist.objects.get(job_id=first_job)
    assert [p.title for p in fakes.plex.playlists()] == ["🌙 Daily Evening Mix"]
    page.screenshot(path=artifacts / "playlists-generated.png", full_page=True)

    last.locator(f'a[href="/playlists/{first.pk}/"]').click()
    page.wait_for_url(f"**/playlists/{first.pk}/")
    expect(page.locator(".generation-tracks tbody tr")).to_have_count(first.track_count)
    expect(page.locator("#difference")).to_contain_text("The first generation")
    page.screenshot(path=artifacts / "playlists-generation.png", full_page=True)

    # Exclude the genre the first mix holds most, then generate again.
    genre = Counter(t.genre for t in first.tracks.exclude(genre="")).most_common(1)[0][0]
    page.get_by_role("link", name="← Playlists").click()
    page.locator("#exclusions input[name=genres]").fill(genre)
    page.get_by_role("button", name="Save exclusions").click()
    expect(page.locator("#exclusions .note")).to_contain_text("Saved")
    second_job = _generate(page, "evening")
    second = Playlist.objects.get(job_id=second_job)

    page.locator(f'#card-evening .last a[href="/playlists/{second.pk}/"]').click()
    page.wait_for_url(f"**/playlists/{second.pk}/")
    before = set(first.tracks.values_list("rating_key", flat=True))
    now = set(second.tracks.values_list("rating_key", flat=True))
    assert before - now, "excluding a genre changed nothing"
    difference = page.locator("#difference")
    expect(difference.locator('[data-count="dropped"]')).to_have_text(
        f"{len(before - now)} dropped"
    )
    expect(difference.locator('[data-count="added"]')).to_have_text(f"{len(now - before)} added")
    expect(page.locator("#excluded")).to_contain_text(f"{genre}: ")
    assert not second.tracks.filter(genre=genre).exists()
    expect(page.locator(".generation-history tbody tr")).to_have_count(2)
    page.screenshot(path=artifacts / "playlists-difference.png", full_page=True)


def test_a_preview_opens_as_a_track_list_and_writes_nothing_to_plex(
    page, plex_cluster, fakes, artifacts
) -> None:
    before = fakes.plex.playlists()
    page.goto("/playlists/")
    page.locator("#card-morning").get_by_role("button", name="Preview").click()
    page.wait_for_url(re.compile(r"/playlists/\d+/$"), timeout=30_000)
    preview = Playlist.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert preview.dry_run and preview.track_count > 0
    expect(page.locator("h1 .badge")).to_have_text("preview")
    expect(page.locator(".generation-tracks tbody tr")).to_have_count(preview.track_count)
    assert _writes(fakes) == 0 and fakes.plex.playlists() == before
    page.screenshot(path=artifacts / "playlists-preview.png", full_page=True)


def test_export_downloads_an_m3u8_playlist(page, plex_cluster, fakes) -> None:
    page.goto("/playlists/")
    _generate(page, "discovery")
    with page.expect_download() as info:
        page.locator("#card-discovery a.export-m3u").click()
    download = info.value
    assert download.suggested_filename.endswith(".m3u8")
    text = open(download.path(), encoding="utf-8").read()  # noqa: PTH123, SIM115
    assert text.startswith("#EXTM3U\n") and "#EXTINF:" in text
