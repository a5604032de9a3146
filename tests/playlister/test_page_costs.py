"""What keeps the playlist pages fast (issue 14: p95 < 50 ms with a year of history and
1,000,000 job runs, ``bench/bench_playlist_pages.py``): a fixed number of queries whatever
the number of tracks and generations, links filled in from patterns reversed once, a
generation's track rows formatted in Python and escaped as the template would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs import services as job_services
from playlister.links import url_of
from playlister.models import CustomPlaylist, ManagedPlaylist, Playlist, PlaylistTrack
from playlister.windows import Window

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# The user; the generation with its managed playlist; its tracks; the previous generation;
# its tracks; the history (the session comes from the cache).
GENERATION_QUERIES = 6
# The user; the saved exclusions; then the cards: custom playlists, managed playlists with
# their latest ids, those generations, schedules, active jobs (the custom playlists read
# once, for the cards and their table).
PLAYLISTS_QUERIES = 7
# A window's card alone: no custom playlist to read.
WINDOW_CARD_QUERIES = 5


def _generation(managed: ManagedPlaylist, tracks: int, *, at, keys: range) -> Playlist:
    playlist = Playlist.objects.create(
        managed=managed,
        window=managed.key,
        title=managed.title,
        generated_at=at,
        track_count=tracks,
        job_id=7,
    )
    PlaylistTrack.objects.bulk_create(
        PlaylistTrack(
            playlist=playlist,
            position=n + 1,
            rating_key=str(key),
            title=f"Track {key}",
            artist=f"Artist {key % 7}",
            why={"parts": {"recency": 0.5}, "pool": "history", "pick": "top"},
        )
        for n, key in zip(range(tracks), keys, strict=False)
    )
    return playlist


def _queries(client, path: str, **headers) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **headers)
    assert response.status_code in (200, 286)
    return [q["sql"] for q in ctx.captured_queries]


def test_a_generation_page_costs_the_same_queries_for_10_or_200_tracks(client_in) -> None:
    managed = ManagedPlaylist.objects.create(key="evening", title="Evening")
    now = timezone.now()
    for day in range(30):  # a history longer than the page shows
        _generation(managed, 5, at=now - timedelta(days=60 - day), keys=range(day, day + 5))
    small = _generation(managed, 10, at=now - timedelta(days=2), keys=range(100, 110))
    big = _generation(managed, 200, at=now - timedelta(days=1), keys=range(105, 305))

    client_in.get(f"/playlists/{small.pk}/")  # the session into the cache
    for playlist, rows in ((small, 10), (big, 200)):
        queries = _queries(client_in, f"/playlists/{playlist.pk}/")
        assert len(queries) == GENERATION_QUERIES, queries
        page = client_in.get(f"/playlists/{playlist.pk}/").content.decode()
        assert page.count("<tr data-key=") == rows
    page = client_in.get(f"/playlists/{big.pk}/").content.decode()
    assert "195 added" in page and "5 kept" in page and "5 dropped" in page
    assert page.count('data-change="added"') == 195
    assert page.count('<span class="badge status-success">new</span>') == 195


def test_the_playlists_page_and_a_card_cost_fixed_queries_whatever_the_history(
    client_in,
) -> None:
    now = timezone.now()

    def grow(generations: int) -> None:
        for key in (*Window, f"custom:{custom.pk}"):
            managed, _ = ManagedPlaylist.objects.get_or_create(key=key, title=key.title())
            for n in range(generations):
                _generation(managed, 3, at=now - timedelta(hours=n), keys=range(n, n + 3))

    def counts() -> tuple[int, int, int]:
        return (
            len(_queries(client_in, "/playlists/")),
            len(_queries(client_in, "/playlists/card/morning", **HTMX)),
            len(_queries(client_in, f"/playlists/card/custom:{custom.pk}", **HTMX)),
        )

    custom = CustomPlaylist.objects.create(name="Rock", genres=["rock"])
    client_in.get("/playlists/")  # the session into the cache
    job_services.enqueue(job_type="playlist", params={"window": "morning"})
    grow(1)
    first = counts()
    grow(20)
    for n in range(4):
        CustomPlaylist.objects.create(name=f"Custom {n}", genres=["rock"])
    assert counts() == first
    playlists, window_card, custom_card = first
    assert playlists == PLAYLISTS_QUERIES
    assert window_card == WINDOW_CARD_QUERIES
    assert custom_card == WINDOW_CARD_QUERIES + 1


@pytest.mark.parametrize(
    ("name", "arg"),
    [
        ("playlister:generation", 42),
        ("playlister:card", "morning"),
        ("playlister:generate", "custom:3"),
        ("playlister:custom-edit", 7),
        ("jobs:detail", 123456789),
        ("jobs:schedules", None),
    ],
)
@pytest.mark.parametrize("prefix", ["/", "/under/a path/"])
def test_links_are_what_reverse_makes(name: str, arg: object, prefix: str) -> None:
    set_script_prefix(prefix)
    try:
        if arg is None:
            assert url_of(name) == reverse(name)
        else:
            assert url_of(name, arg) == reverse(name, args=[arg])
    finally:
        set_script_prefix("/")


@given(key=st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_a_card_link_is_what_reverse_makes_of_any_key_or_refused_like_it(key: str) -> None:
    """Junk keys (Unicode, spaces, quotes, percent signs, slashes, nothing): the same link
    as ``reverse``, or the same refusal."""
    try:
        expected = reverse("playlister:card", args=[key])
    except NoReverseMatch:
        with pytest.raises(NoReverseMatch):
            url_of("playlister:card", key)
    else:
        assert url_of("playlister:card", key) == expected


def test_a_track_row_is_escaped_as_the_template_escaped_it(client_in) -> None:
    managed = ManagedPlaylist.objects.create(key="morning", title="Morning")
    playlist = Playlist.objects.create(managed=managed, window="morning", title="Morning")
    PlaylistTrack.objects.create(
        playlist=playlist,
        position=1,
        rating_key="9",
        title="<b>Bold</b> & \"quoted\" 'single'",
        artist="AC/DC",
        album="Live <1991>",
        genres=["rock & roll"],
        score=0.456,
        user_rating=7.0,
        duration_ms=185_400,
        why={"parts": {"recency": 0.3}, "pool": "sonic", "pick": "fill", "relaxed": "<all>"},
    )
    page = client_in.get(f"/playlists/{playlist.pk}/").content.decode()
    row = page[page.index('<tr data-key="9">') :]
    row = row[: row.index("</tr>")]
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;quoted&quot; &#x27;single&#x27;" in row
    assert '<td data-label="Album">Live &lt;1991&gt;</td>' in row
    assert '<td data-label="Genres">rock &amp; roll</td>' in row
    assert '<td data-label="Rating">3½ ★</td>' in row
    assert '<td data-label="Length" class="num">3:05</td>' in row
    assert '<td data-label="Score" class="num score">0.46</td>' in row
    assert '<td data-label="Last played">never</td>' in row
    assert "sonic expansion (sounds like the others) · filled in" in row
    assert '<br><span class="relaxed">&lt;all&gt;</span>' in row
    assert "data-change" not in row  # the first generation: nothing to compare with


def test_a_remembered_next_run_is_what_cron_says_at_any_later_moment() -> None:
    from zoneinfo import ZoneInfo

    from jobs.schedules import cron
    from playlister.selectors import _next_at

    tz = ZoneInfo("Europe/Berlin")
    start = timezone.now().replace(second=0, microsecond=0)
    moments = [start + timedelta(minutes=17 * n) for n in range(200)]  # across days
    moments += [start - timedelta(days=1), start + timedelta(days=3)]  # back in time too
    for expression in ("0 5 * * *", "30 */6 * * 1-5"):
        for now in moments:
            expected = cron.runs_after(expression, tz, now, 1)
            assert _next_at(expression, tz, now) == (expected[0] if expected else None)
            at = expected[0]
            # Just before and at the run: the run itself, then the one after it.
            assert _next_at(expression, tz, at - timedelta(microseconds=1)) == at
            assert _next_at(expression, tz, at) == cron.runs_after(expression, tz, at, 1)[0]
