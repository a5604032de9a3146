"""Results, parameters and errors in words (``jobs.results``, the apps' presenters): what the
detail page, the dashboard, the CLI's last line and the stream's ``end`` event say."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from jobs import registry, selectors
from jobs.models import JobStatus
from jobs.registry import JobError
from jobs.results import (
    UNEXPECTED,
    Link,
    duration_text,
    present_default,
    readable_error,
    value_text,
)
from jobs.runner import one_line
from jobs.terminal import cells, clip, columns
from jobs.views.present import end_event
from tests.browser import seed
from tests.factories import JobRunFactory
from tests.jobs.junk import JUNK_SETTINGS, json_values

TYPES = [
    "cache-warm",
    "cache-albums",
    "cache-refresh",
    "audiomuse-sync",
    "playlist",
    "custom-playlists",
]


def test_a_warm_says_what_it_did_where_genres_came_from_and_what_failed():
    shown = registry.presented("cache-warm", seed.WARM)
    assert shown.summary == (
        "Cached genres for 310 of 334 artists looked up "
        "(950 already cached, 21 with no genres found, 3 failed)."
    )
    sources, failures = shown.tables
    assert dict(sources.rows)["Last.fm tags"] == "97"
    assert ("Zoë & the Owls", "Plex: reading metadata failed") in failures.rows
    assert ("Live: 1979 & Friends", "Spotify: timed out after 10s") in failures.rows
    assert ("Provider requests", "452") in shown.facts


def test_a_warm_with_more_failures_than_listed_says_how_many_it_shows():
    shown = registry.presented("cache-albums", {**seed.WARM, "failed": 35})
    assert shown.tables[1].note == "The first 3 of 35."
    assert shown.tables[1].columns == ("Album", "Reason")


ALL_CACHED = "All 300 albums were cached and fresh: nothing to fetch."
DRY_REFRESH = (
    "Would refresh 198 of 200 entries looked up (2 failed); a dry run, nothing was written."
)
SYNCED = (
    "AudioMuse-AI lists 2,210 tracks: fetched 64 (40 new, 24 updated), deleted 7, 2,139 unchanged."
)
DRY_PLAYLIST = (
    "Chose 50 tracks (3h 24m) for “🌅 Daily Morning Mix”; a dry run, nothing was written."
)
CUSTOMS = "Wrote 2 custom playlists (55 tracks); 1 skipped, no tracks match."


@pytest.mark.parametrize(
    ("job_type", "result", "summary"),
    [
        ("cache-albums", seed.ALBUMS_ALL_CACHED, ALL_CACHED),
        ("cache-warm", {"total": 0}, "The Plex library has no artists: nothing to do."),
        ("cache-refresh", {"total": 0}, "Nothing was due for a refresh."),
        ("cache-refresh", {"total": 200, "failed": 2, "dry_run": True}, DRY_REFRESH),
        ("audiomuse-sync", seed.SYNC, SYNCED),
        (
            "audiomuse-sync",
            {"listed": 1, "unchanged": 1},
            "AudioMuse-AI lists 1 track: all were up to date.",
        ),
        ("playlist", seed.PLAYLIST, "Wrote 50 tracks (3h 24m) to “🌅 Daily Morning Mix”."),
        ("playlist", {**seed.PLAYLIST, "dry_run": True}, DRY_PLAYLIST),
        (
            "playlist",
            {"window": "evening", "tracks": 0},
            "No tracks could be chosen for “Evening”: nothing was written.",
        ),
        ("custom-playlists", seed.CUSTOM, CUSTOMS),
        (
            "custom-playlists",
            {"playlists": [], "skipped": []},
            "No custom playlist is enabled: nothing to do.",
        ),
    ],
)
def test_each_job_type_says_its_result_in_one_sentence(job_type, result, summary):
    assert registry.presented(job_type, result).summary == summary


def test_custom_playlists_are_one_line_each_without_escapes():
    (table,) = registry.presented("custom-playlists", seed.CUSTOM).tables
    assert [str(row[0]) for row in table.rows] == ["Late Jazz • Slow", "北京 Rock", "Polka Night"]
    assert table.rows[1][3] == "2 tracks not returned by Plex (see the log)"
    assert "\\u" not in repr(table.as_json())


def test_a_playlist_links_its_generation_page_or_else_the_playlists_page():
    (link,) = registry.presented("playlist", seed.PLAYLIST).links
    assert (link.text, link.url) == ("This generation", "/playlists/7/")
    unnamed = {k: v for k, v in seed.PLAYLIST.items() if k != "playlist_id"}
    (fallback,) = registry.presented("playlist", unnamed).links
    assert (fallback.text, fallback.url) == ("All playlists", "/playlists/")
    (table,) = registry.presented("custom-playlists", seed.CUSTOM).tables
    assert isinstance(table.rows[0][0], Link)
    assert table.rows[0][0].url == "/playlists/8/"
    # A dry run keeps its tracks as a preview: its page is linked as such.
    (preview,) = registry.presented("playlist", {**seed.PLAYLIST, "dry_run": True}).links
    assert (preview.text, preview.url) == ("This preview", "/playlists/7/")


@JUNK_SETTINGS
@given(job_type=st.sampled_from(TYPES), result=json_values)
def test_no_result_shape_breaks_a_presenter(job_type, result):
    # An old row, a changed dataclass, junk: a sentence comes out, never an exception.
    shown = registry.presented(job_type, result)
    assert isinstance(shown.summary, str) and shown.summary
    assert shown.as_json()["summary"] == shown.summary


def test_the_default_presenter_reads_a_dict_as_a_person_says_it():
    shown = present_default({"steps": 1234, "ok": True, "note": None, "tags": ["a", "b"]})
    assert shown.summary == "Steps: 1,234 · Ok: Yes · Note: —"
    assert ("Tags", "a, b") in shown.facts
    assert present_default(None).summary == "Done."
    assert value_text([{"a": 1}] * 3) == "3 entries"
    assert value_text(list(range(12))) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more"


def test_parameters_read_by_the_form_s_labels_and_choices():
    rows = registry.params_for_people(
        "playlist", {"window": "discovery", "dry_run": True, "seed": None}
    )
    assert rows == [("Window", "Discovery"), ("Dry run", "Yes"), ("Seed", "—")]
    # A type that changed or went: what its form no longer knows still reads.
    assert registry.params_for_people("gone", {"max_items": 5, "fast": False}) == [
        ("Fast", "No"),
        ("Max items", "5"),
    ]


@pytest.mark.parametrize(
    ("raised", "line"),
    [
        (ValueError("step 2 failed\nsecond line that people should not see"), "Step 2 failed"),
        (KeyError("window"), "Missing key 'window'"),
        (TimeoutError(), "Timed out"),
        (RuntimeError(), UNEXPECTED),
        (SystemExit(), "Interrupted"),
        (JobError("no job with id 5"), "No job with id 5"),
        (OSError("cannot connect to x (ConnectionRefusedError)"), "Cannot connect to x"),
    ],
)
def test_an_error_is_recorded_as_a_sentence_without_class_names(raised, line):
    assert one_line(raised) == line


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("ValueError: boom", "Boom"),
        ("enrichment.http.ProviderConfigError: Last.fm: KEY is not set", "Last.fm: KEY is not set"),
        ("Attempt 1 of 3 failed: TransientError: HTTP 503 — next attempt at 10:00:00 UTC",
         "Attempt 1 of 3 failed: HTTP 503 — next attempt at 10:00:00 UTC"),
        ("KeyError", UNEXPECTED),
        ("Timeout after 5s", "Timeout after 5s"),
    ],
)  # fmt: skip
def test_rows_written_before_carry_class_names_that_pages_leave_out(stored, shown):
    assert readable_error(stored) == shown


@pytest.mark.django_db
def test_the_stream_s_end_event_says_how_the_job_ended():
    now = timezone.now()
    job = JobRunFactory(
        job_type="audiomuse-sync",
        status=JobStatus.SUCCESS,
        started_at=now - timedelta(seconds=3),
        finished_at=now,
        result=seed.SYNC,
    )
    event = end_event(job, selectors.progress_of(job))
    assert event["summary"].startswith("AudioMuse-AI lists 2,210 tracks: fetched 64")
    assert event["presented"]["tables"][0]["rows"][1] == ["Fetched", "64"]
    assert event["result"] == seed.SYNC  # the raw result stays for scripts
    failed = JobRunFactory(status=JobStatus.FAILED, finished_at=now, error="ValueError: boom")
    assert end_event(failed, selectors.progress_of(failed))["summary"] == "Boom"


def test_terminal_columns_count_wide_and_combining_characters():
    assert cells("北京") == 4 and cells("Zoe\u0308") == 3 and cells("🎸") == 2
    lines = columns(["NAME", "N"], [["北京 Rock", "1"], ["Orky", "12"]], right={1})
    assert lines == ["NAME        N", "北京 Rock   1", "Orky       12"]
    assert clip("北京北京北京", 7) == "北京北…"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, ""),
        (0.85, "850 ms"),
        (12.4, "12s"),
        (185, "3m 05s"),
        (7440, "2h 04m"),
    ],
)
def test_a_duration_reads_short_enough_for_a_table_cell(seconds, shown):
    assert duration_text(seconds) == shown


@given(st.integers(min_value=0, max_value=10**10))
def test_a_playlist_length_reads_in_whole_minutes(ms):
    minutes = round(ms / 60000)
    expected = f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
    assert duration_text(ms / 1000, whole_minutes=True) == expected
