"""Excluded genres: the rules, and no playlist ever picking an excluded track."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrichment.models import AlbumCache, ArtistCache
from enrichment.names import normalize_name, normalize_tag
from playlister.artists import track_artists
from playlister.exclusions import (
    Exclusion,
    RuleError,
    Season,
    current_rules,
    exclusion_for,
    save_rules,
)
from playlister.models import CustomPlaylist, Playlist
from playlister.services import generate_custom_playlists, generate_playlist
from playlister.windows import Window
from tests.enrichment.helpers import NOW, library_of, serving


@pytest.mark.parametrize(
    ("rule", "today", "allowed"),
    [
        ("christmas:12-01:12-26", date(2026, 12, 1), True),
        ("christmas:12-01:12-26", date(2026, 12, 26), True),
        ("christmas:12-01:12-26", date(2026, 11, 30), False),
        ("christmas:12-01:12-26", date(2026, 12, 27), False),
        ("new year:12-30:01-02", date(2027, 1, 2), True),  # over New Year
        ("new year:12-30:01-02", date(2026, 12, 31), True),
        ("new year:12-30:01-02", date(2027, 1, 3), False),
    ],
)
def test_a_seasonal_genre_is_allowed_only_in_its_season(rule, today, allowed) -> None:
    assert Season.parse(rule).allows(today) is allowed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("christmas", "write genre:MM-DD:MM-DD"),
        ("christmas:12-32:12-26", "'12-32' is not a day of the year"),
        (":12-01:12-26", "write genre:MM-DD:MM-DD"),
        ("christmas:dec 1:12-26", "'dec 1' is not a day of the year"),
    ],
)
def test_a_rule_that_cannot_be_read_says_how_to_write_it(text, message) -> None:
    with pytest.raises(RuleError, match=message):
        Season.parse(text)


@given(st.text(max_size=80))
def test_junk_never_crashes_the_rule_reader(text) -> None:
    try:
        season = Season.parse(text)
    except RuleError:
        return
    assert Season.parse(season.text) == season


def test_a_rule_catches_its_genre_as_a_word_not_inside_another_word() -> None:
    exclusion = Exclusion([("christmas", "christmas"), ("rap", "rap")])
    assert exclusion.rule_for(["christmas pop"]) == "christmas"
    assert exclusion.rule_for(["trap", "rapture"]) == ""
    kept = exclusion.keep(["a", "b", "c"], lambda x: {"a": ["rap"], "b": [], "c": ["christmas"]}[x])
    assert kept == ["b"] and exclusion.removed == Counter({"rap": 1, "christmas": 1})


@pytest.mark.django_db
def test_the_page_rules_win_over_the_settings_once_saved(settings) -> None:
    settings.PLAYLISTER_EXCLUDE_GENRES = ["Comedy"]
    settings.PLAYLISTER_SEASONAL_GENRES = ["christmas:12-01:12-26"]
    assert current_rules().genres == ("comedy",)
    assert [g for g, _ in exclusion_for(date(2026, 11, 1)).rules] == ["comedy", "christmas"]
    assert [g for g, _ in exclusion_for(date(2026, 12, 24)).rules] == ["comedy"]
    save_rules(genres=["audiobook"], seasons=[])
    assert [g for g, _ in exclusion_for(date(2026, 11, 1)).rules] == ["audiobook"]


def _seed_caches(library) -> None:
    """The caches as a warm would leave them: each artist's and album's genres."""
    artists: dict[str, set[str]] = {}
    for artist in library.artists:
        artists.setdefault(normalize_name(artist.title), set()).update(artist.genres)
    ArtistCache.objects.bulk_create(
        ArtistCache(name=name, normalized_name=name, genres=sorted(genres))
        for name, genres in artists.items()
    )
    albums: dict[tuple[str, str], set[str]] = {}
    for album in library.albums:
        key = (normalize_name(library.artist(album.artist_key).title), normalize_name(album.title))
        albums.setdefault(key, set()).update(album.genres)
    AlbumCache.objects.bulk_create(
        AlbumCache(
            artist_name=a, album_name=b, normalized_artist=a, normalized_album=b, genres=sorted(g)
        )
        for (a, b), g in albums.items()
    )


def _true_genres(library) -> dict[str, set[str]]:
    """Every genre of each track: its own, its album's, each of its artists'."""
    names = {normalize_name(a.title): a for a in library.artists}
    found = {}
    for track in library.tracks:
        album = library.album(track.album_key)
        album_artist = library.artist(album.artist_key)
        credited = track_artists(
            track.original_title, album_artist.title, lambda n: normalize_name(n) in names
        )
        genres = {*track.genres, *album.genres}
        for name in credited:
            genres |= set(getattr(names.get(normalize_name(name)), "genres", ()))
        found[str(track.rating_key)] = {normalize_tag(g) for g in genres}
    return found


def _holds(genres: set[str], genre: str) -> bool:
    return any(g == genre or f" {genre} " in f" {g} " for g in genres)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(20))
def test_an_excluded_genre_never_appears_in_any_playlist(settings, seed) -> None:
    library = library_of(24, seed=1000 + seed)
    truth = _true_genres(library)
    counts = Counter(g for genres in truth.values() for g in genres)
    (banned, _), (seasonal, _) = counts.most_common(2)
    moods = Counter(normalize_tag(m) for t in library.tracks for m in t.moods)
    _seed_caches(library)
    save_rules(genres=[banned], seasons=[Season.parse(f"{seasonal}:12-01:12-26")])  # NOW: Nov 1
    CustomPlaylist.objects.create(name="Mood", moods=[moods.most_common(1)[0][0]])

    removed = 0
    with serving(settings, library):
        for window in Window:
            result = generate_playlist(window=window, now=NOW, dry_run=True)
            removed += sum(result.excluded.values())
        for result in generate_custom_playlists(now=NOW, dry_run=True).playlists:
            removed += sum(result.excluded.values())

    chosen = list(Playlist.objects.values_list("tracks__rating_key", flat=True))
    assert removed > 0 and len(chosen) > 50
    for key in chosen:
        assert not _holds(truth[key], banned), (key, truth[key])
        assert not _holds(truth[key], seasonal), (key, truth[key])
