"""What a person sees (issue 16), in a real browser: results and parameters in words on every
page, for a finished run of each of the six job types; no JSON literal and no exception class
name anywhere; the dashboard's calmer live region and notices; the history's charts with
their tables; both themes at a phone's and a desktop's width, screenshots of each page.

No cluster is needed: every run is seeded as its service leaves it (``tests.browser.seed``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jobs.models import ACTIVE_STATUSES, JobRun, JobStatus
from playlister.windows import Window
from tests.browser.conftest import PASSWORD
from tests.browser.seed import Seeded, seed
from tests.factories import JobRunFactory

# What a person should never read: JSON literals, and the code's names for its errors.
JSON_LITERAL = re.compile(r'\b(?:true|false|null|None)\b|\{"|":\s|\\u[0-9a-f]{4}')
CLASS_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b|Traceback")
WIDTHS = {"phone": 390, "desktop": 1280}
SCHEMES = ("light", "dark")


@pytest.fixture
def seeded(browser, transactional_db) -> Seeded:
    return seed()


@pytest.fixture
def person(browser, transactional_db, django_user_model):
    return django_user_model.objects.create_user(username="dana", password=PASSWORD)


@pytest.fixture
def open_as(browser, live_server, person):
    """Open a logged-in tab: ``open_as(width=390, scheme="dark", zone="Asia/Tokyo")``."""
    contexts = []

    def open_tab(*, width: int = 1280, scheme: str = "light", zone: str | None = None):
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": 900},
            color_scheme=scheme,
            timezone_id=zone,
        )
        contexts.append(context)
        context.set_default_timeout(10_000)
        tab = context.new_page()
        tab.goto("/login/")
        tab.fill("input[name=username]", person.username)
        tab.fill("input[name=password]", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{live_server.url}/")
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def _pages(seeded: Seeded) -> dict[str, str]:
    pages = {
        "dashboard": "/",
        "history": "/jobs/",
        "schedules": "/schedules/",
        "playlists": "/playlists/",
    }
    for job in seeded.finished_of_each_type:
        pages[f"detail-{job.job_type}"] = f"/jobs/{job.pk}/"
    return pages


def _settled(tab) -> None:
    """The page as a person reads it: its after-load parts (metrics, charts) in."""
    tab.wait_for_load_state("networkidle")
    if tab.locator("#charts").count() or tab.locator(".charts").count():
        expect(tab.locator("#charts")).to_be_visible()
        expect(tab.locator("#metrics")).to_be_visible()


def _readable(tab, where: str) -> None:
    text = tab.inner_text("body")
    assert not JSON_LITERAL.search(text), (where, JSON_LITERAL.search(text), text[:3000])
    assert not CLASS_NAME.search(text), (where, CLASS_NAME.search(text), text[:3000])


def test_every_page_reads_as_words_in_both_themes_at_both_widths(seeded, open_as, artifacts):
    pages = _pages(seeded)
    for scheme in SCHEMES:
        for size, width in WIDTHS.items():
            tab = open_as(width=width, scheme=scheme)
            for name, path in pages.items():
                tab.goto(path)
                _settled(tab)
                _readable(tab, f"{name} {size} {scheme}")
                if size == "phone":
                    overflow = tab.evaluate(
                        "() => document.documentElement.scrollWidth - window.innerWidth"
                    )
                    assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px phone"
                tab.screenshot(path=artifacts / f"{name}-{size}-{scheme}.png", full_page=True)
            tab.context.clear_cookies()
            tab.goto("/login/")
            _readable(tab, f"login {size} {scheme}")
            tab.screenshot(path=artifacts / f"login-{size}-{scheme}.png", full_page=True)


def test_each_job_type_s_result_is_a_sentence_with_its_table(seeded, open_as):
    tab = open_as()
    expected = {
        seeded.warm: "Cached genres for 310 of 334 artists looked up (950 already cached, "
        "21 with no genres found, 3 failed).",
        seeded.albums: "All 300 albums were cached and fresh: nothing to fetch.",
        seeded.sync: "AudioMuse-AI lists 2,210 tracks: fetched 64 (40 new, 24 updated), "
        "deleted 7, 2,139 unchanged.",
        seeded.playlist: "Wrote 50 tracks (3h 24m) to “🌅 Daily Morning Mix”.",
        seeded.custom: "Wrote 2 custom playlists (55 tracks); 1 skipped, no tracks match.",
    }
    for job, sentence in expected.items():
        tab.goto(f"/jobs/{job.pk}/")
        expect(tab.locator("#job-result .lead")).to_have_text(sentence)
        expect(tab.locator("#job-outcome")).to_have_text(sentence)
    # Where the genres came from, and which artists failed and why.
    tab.goto(f"/jobs/{seeded.warm.pk}/")
    sources = tab.locator("#job-result table").nth(0)
    expect(sources.locator("caption")).to_have_text("Where the genres came from")
    expect(sources.locator("tr", has_text="Last.fm tags")).to_contain_text("97")
    failures = tab.locator("#job-result table").nth(1)
    expect(failures.locator("tr", has_text="Live: 1979 & Friends")).to_contain_text(
        "Spotify: timed out after 10s"
    )
    expect(failures.locator("tr", has_text="Zoë & the Owls")).to_contain_text(
        "Plex: reading metadata failed"
    )
    # Parameters as a person says them.
    params = tab.locator("dl.params")
    assert re.search(r"Skip cached\s+Yes", params.inner_text())
    assert re.search(r"Dry run\s+No", params.inner_text())
    assert re.search(r"Limit\s+—", params.inner_text())
    # The raw result is one click away.
    tab.locator("#job-result").get_by_role("link", name="JSON").click()
    assert '"provider_requests": 452' in tab.content() or '"provider_requests":452' in tab.content()
    # A custom playlists run: one line per playlist, no escapes.
    tab.goto(f"/jobs/{seeded.custom.pk}/")
    table = tab.locator("#job-result table")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tr", has_text="Late Jazz • Slow")).to_contain_text("1h 57m")
    expect(table.locator("tr", has_text="Polka Night")).to_contain_text("Skipped")
    # The playlist's parameters name the window, and the result links onwards.
    tab.goto(f"/jobs/{seeded.playlist.pk}/")
    assert re.search(r"Window\s+Morning", tab.locator("dl.params").inner_text())
    expect(tab.locator("#job-result .links a")).to_have_count(1)


def test_an_error_is_a_sentence_and_its_traceback_is_for_staff_folded(
    seeded, open_as, person, live_server
):
    tab = open_as()
    tab.goto(f"/jobs/{seeded.refresh_failed.pk}/")
    expect(tab.locator("#job-outcome")).to_have_text(
        "Last.fm: PLAYLISTER_LASTFM_API_KEY is not set (get one at last.fm/api)"
    )
    expect(tab.locator("details.traceback")).to_have_count(0)
    assert "Traceback" not in tab.content()
    expect(tab.locator("#job-log")).to_contain_text("job")  # the log's first line stays
    person.is_staff = True
    person.save()
    tab.reload()
    folded = tab.locator("details.traceback")
    expect(folded).to_have_count(1)
    expect(folded.locator("pre")).not_to_be_visible()
    folded.locator("summary").click()
    expect(folded.locator("pre")).to_contain_text("ProviderConfigError")


def test_the_dashboard_moves_only_what_runs_and_its_notices_go(seeded, open_as):
    tab = open_as()
    # The CLI run counts beside the queue's figures; it is labelled with what it is on.
    expect(tab.locator("[data-stat=direct]")).to_contain_text("1 running from the CLI")
    card = tab.locator(f"#job-{seeded.running_cli.pk}")
    expect(card.locator(".message")).to_have_text("Now: Orky")
    expect(card.locator("progress")).to_have_attribute("value", "480")
    # A queued job has no bar at all (an indeterminate one moved as if it ran).
    waiting = tab.locator(f"#job-{seeded.waiting.pk}")
    expect(waiting.locator("progress")).to_have_count(0)
    expect(waiting).to_contain_text("next attempt at")
    # The finished runs say how they ended.
    expect(tab.locator(f"#run-{seeded.sync.pk} .outcome")).to_contain_text("fetched 64")
    expect(tab.locator(f"#run-{seeded.cancelled.pk} .outcome")).to_have_text("Cancelled (Ctrl+C)")
    # The start forms under headings, playlists first.
    headings = tab.locator(".start-group h3").all_text_contents()
    assert headings[:2] == ["Playlists", "Library data"], headings
    forms = tab.locator(".start-group").first.locator("form")
    assert forms.first.get_attribute("id") == "start-playlist"


def test_the_playlist_form_keeps_its_choice_and_starts_every_window(seeded, open_as):
    tab = open_as()
    before = timezone.now()
    form = tab.locator("#start-playlist")
    form.locator("select[name=window]").select_option("all")
    form.locator("input[name=dry_run][type=checkbox]").check()
    form.get_by_role("button", name="Start").click()
    note = tab.locator("#start-playlist .note")
    expect(note).to_contain_text("Queued")
    expect(note.locator("a")).to_have_count(5)
    started = JobRun.objects.filter(job_type="playlist", queued_at__gte=before)
    assert sorted(started.values_list("window", flat=True)) == sorted(Window)
    assert all(job.params["dry_run"] for job in started)
    # The form kept what was chosen.
    expect(tab.locator("#start-playlist select[name=window]")).to_have_value("all")
    expect(tab.locator("#start-playlist input[name=dry_run][type=checkbox]")).to_be_checked()
    # The note goes by itself.
    expect(tab.locator("#start-playlist .note")).to_have_count(0, timeout=15_000)
    JobRun.objects.filter(pk__in=started).update(status=JobStatus.CANCELLED)


def test_cancel_all_says_so_and_the_notice_goes(seeded, open_as):
    tab = open_as()
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.get_by_role("button", name="Cancel all running").click()
    notice = tab.locator("#notice")
    expect(notice).to_have_text("Asked 1 running job to stop.")
    expect(notice).to_be_hidden(timeout=12_000)


def test_history_charts_say_it_in_tables_too_and_filters_hold(seeded, open_as, artifacts):
    for days_ago in (1, 3):
        at = timezone.now() - timedelta(days=days_ago)
        JobRunFactory(
            job_type="cache-warm",
            status=JobStatus.FAILED,
            queued_at=at,
            started_at=at,
            finished_at=at + timedelta(seconds=30),
            attempt=1,
            error="Last.fm: HTTP 503",
        )
    tab = open_as(width=1280, scheme="dark")
    tab.goto("/jobs/")
    _settled(tab)
    runs = tab.locator("#chart-runs-per-day")
    expect(runs.locator("canvas").first).to_be_visible()
    # The legend names each line with its marker's symbol: not colour alone.
    legend = runs.locator(".u-legend").inner_text()
    assert "● Success" in legend and "▲ Failed" in legend, legend
    table = runs.locator("table")
    expect(table.locator("thead")).to_contain_text("Failed")
    assert table.locator("tbody tr").count() >= 3
    durations = tab.locator("#chart-durations")
    expect(durations.locator("table thead")).to_contain_text("Warm the artist cache")
    tab.screenshot(path=artifacts / "history-charts-desktop-dark.png", full_page=True)
    # The charts and the metrics follow the filter.
    tab.goto("/jobs/?status=failed")
    _settled(tab)
    head = tab.locator("#chart-runs-per-day table thead").inner_text()
    assert "Failed" in head and "Success" not in head, head
    expect(tab.locator("#metrics")).to_contain_text("that match the filters")
    # A bad date: named below the bar, which keeps its line.
    tab.goto("/jobs/?since=2026-02-31")
    bar = tab.locator("form.filters")
    tops = {round(box["y"]) for box in (f.bounding_box() for f in bar.locator(".field").all())}
    assert len(tops) == 1, tops
    expect(tab.locator("#filter-errors")).to_contain_text("From:")


def test_times_are_in_the_browser_s_zone_and_say_which(seeded, open_as):
    tab = open_as(zone="Asia/Tokyo")
    tab.goto(f"/jobs/{seeded.sync.pk}/")
    expect(tab.locator("#viewer-tz")).to_have_text("Asia/Tokyo")
    expect(tab.locator("footer")).to_contain_text("this browser's time zone")
    finished = timezone.localtime(seeded.sync.finished_at, timezone=ZoneInfo("Asia/Tokyo"))
    expect(tab.locator(".timeline")).to_contain_text(finished.strftime("%Y-%m-%d %H:%M:%S JST"))


def test_keyboard_focus_is_visible(seeded, open_as):
    tab = open_as()
    tab.keyboard.press("Tab")  # the skip link
    tab.keyboard.press("Tab")
    outline = tab.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline


@pytest.fixture(autouse=True)
def _no_leftovers(transactional_db) -> Iterator[None]:
    yield
    JobRun.objects.filter(status__in=ACTIVE_STATUSES).update(status=JobStatus.CANCELLED)
