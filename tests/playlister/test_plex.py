"""What the playlist generators read from the fake Plex: history, tracks, real shapes."""

from __future__ import annotations

from datetime import timedelta
from xml.etree.ElementTree import Element, SubElement

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from enrichment.plex import PlexLibrary, connect
from playlister.plex import PlaylistPlex, track_of
from tests.enrichment.helpers import NOW, library_of, serving

LIBRARY = library_of(60, seed=31)


@pytest.fixture
def fakes(settings):
    with serving(settings, LIBRARY) as services:
        yield services


@pytest.fixture
def plex(fakes) -> PlaylistPlex:
    return PlaylistPlex(PlexLibrary(connect()))


def test_history_skips_and_counts_the_plays_of_removed_tracks(fakes, plex) -> None:
    since = NOW - timedelta(days=30)
    recent = [p for p in LIBRARY.plays if p.viewed_at >= since]
    removed = [p for p in recent if LIBRARY.item(p.track_key) is None]
    assert removed  # the library holds some: this test can fail

    history = plex.plays(since=since)

    assert history.removed == len(removed)
    assert len(history.plays) == len(recent) - len(removed)
    assert all(p.rating_key.isdigit() for p in history.plays)
    # The hidden section's plays are its own.
    hidden = {str(t.rating_key) for t in LIBRARY.extra_sections[0].tracks}
    assert not hidden & {p.rating_key for p in history.plays}

    plex.tracks(sorted({p.rating_key for p in history.plays}))
    paths = [r.path for r in fakes.plex.records("metadata")]
    assert paths and not any("None" in path or ",," in path for path in paths)


def test_tracks_by_key_are_all_returned_in_batches_of_a_page(fakes, plex) -> None:
    keys = [str(t.rating_key) for t in LIBRARY.tracks[:250]]
    fakes.plex.reset_counters()
    tracks = plex.tracks(keys)
    assert [t.rating_key for t in tracks] == keys
    assert fakes.plex.request_count("metadata") == 3


def test_real_track_shapes_are_read_as_plex_means_them(plex) -> None:
    by_key = {t.rating_key: t for t in plex.all_tracks()}
    assert len(by_key) == len(LIBRARY.tracks)
    for expected in LIBRARY.tracks:
        track = by_key[str(expected.rating_key)]
        album_artist = LIBRARY.artist(expected.artist_key).title
        assert (track.title, track.album_artist) == (expected.title, album_artist)
        assert track.original_title == expected.original_title
        assert track.credit == (expected.original_title or album_artist)
        assert track.duration_ms == expected.duration_ms  # one duration, whatever the media
        assert track.user_rating == expected.user_rating  # None when unrated; halves kept
        assert track.view_count == expected.view_count
        assert track.last_viewed_at == expected.last_viewed_at
    assert any(t.user_rating is not None and t.user_rating % 2 for t in by_key.values())
    assert any(not t.title.isascii() for t in by_key.values())


def test_top_tracks_follow_a_plex_sort(plex) -> None:
    best = plex.top_tracks("userRating:desc", limit=7)
    assert len(best) == 7
    ratings = [t.user_rating or 0 for t in best]
    assert ratings == sorted(ratings, reverse=True)
    assert ratings[0] == max(t.user_rating or 0 for t in LIBRARY.tracks)


ATTRS = st.dictionaries(
    st.sampled_from(
        [
            "ratingKey",
            "title",
            "grandparentTitle",
            "parentTitle",
            "originalTitle",
            "duration",
            "userRating",
            "viewCount",
            "lastViewedAt",
            "type",
        ]
    ),
    st.one_of(st.text(max_size=12), st.integers(-5, 10**10).map(str), st.just("")),
)


# No deadline: a loaded CI machine must not turn slowness into a failure.
@settings(deadline=None)
@given(attrs=ATTRS, media=st.lists(st.one_of(st.text(max_size=5), st.just("1000")), max_size=3))
@example(attrs={"lastViewedAt": "nan", "duration": "inf", "viewCount": "-3"}, media=["1e400"])
@example(attrs={"lastViewedAt": "1e300", "userRating": "NaN"}, media=[])
def test_any_track_element_is_read_without_error(attrs: dict[str, str], media: list[str]) -> None:
    element = Element("Track", attrs)
    for duration in media:
        SubElement(element, "Media", duration=duration)
    track = track_of(element)
    assert track.duration_ms >= 0 and track.view_count >= 0
    assert track.user_rating is None or track.user_rating == track.user_rating  # not NaN
    assert track.title == attrs.get("title", "")
