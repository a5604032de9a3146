"""Genres of tracks from the caches, looked up under the artists Plex credits."""

from __future__ import annotations

import pytest

from enrichment.models import AlbumCache, ArtistCache
from enrichment.names import normalize_name
from playlister.candidates import TagIndex
from playlister.plex import TrackInfo

pytestmark = pytest.mark.django_db


def _artist(name: str, *genres: str) -> None:
    ArtistCache.objects.create(name=name, normalized_name=normalize_name(name), genres=genres)


def _album(artist: str, album: str, *genres: str) -> None:
    AlbumCache.objects.create(
        artist_name=artist,
        album_name=album,
        normalized_artist=normalize_name(artist),
        normalized_album=normalize_name(album),
        genres=genres,
    )


def _track(album_artist: str, original_title: str = "", album: str = "Album") -> TrackInfo:
    return TrackInfo(
        rating_key=str(abs(hash((album_artist, original_title))) % 10**6),
        title="A Song",
        album_artist=album_artist,
        album=album,
        duration_ms=200_000,
        user_rating=None,
        view_count=0,
        last_viewed_at=None,
        genres=("Plex Tag",),
        original_title=original_title,
    )


def test_a_track_of_two_credited_artists_finds_its_album_and_artists_genres() -> None:
    # The case: originalTitle "A/B", album artist A; A and the album are cached.
    _artist("Ana Lindqvist", "rock")
    _album("Ana Lindqvist", "Album", "indie rock")
    track = _track("Ana Lindqvist", "Ana Lindqvist/Bo Reyes")
    index = TagIndex.load([track])
    assert index.artists_of(track) == ("ana lindqvist", "bo reyes")
    assert index.artist(track) == "ana lindqvist"
    assert index.tags(track)[0] == ["indie rock", "rock", "plex tag"]


def test_genres_come_from_the_first_cached_track_artist_then_the_album_artist() -> None:
    _artist("Ana Lindqvist", "rock")
    _artist("Bo Reyes", "jazz")
    featured = _track("Ana Lindqvist", "Bo Reyes feat. Ana Lindqvist", album="Other")
    guests = _track("Ana Lindqvist", "Guest One feat. Guest Two", album="Other")
    index = TagIndex.load([featured, guests])
    assert index.tags(featured)[0] == ["jazz", "plex tag"]
    assert index.artist(featured) == "bo reyes"
    # Nothing in the credit is known: the album artist's genres.
    assert index.tags(guests)[0] == ["rock", "plex tag"]


def test_a_compilation_track_counts_for_its_own_artist() -> None:
    _artist("Zoë Novák & the Owls", "folk")
    _artist("Various Artists", "pop")
    _album("Various Artists", "Hits", "soundtrack")
    track = _track("Various Artists", "Zoë Novák & the Owls", album="Hits")
    index = TagIndex.load([track])
    assert index.artist(track) == "zoe novak and the owls"
    assert index.tags(track)[0] == ["soundtrack", "folk", "plex tag"]


def test_the_artist_listing_is_read_once_and_only_for_credits_with_separators() -> None:
    calls: list[int] = []

    def listing() -> list[str]:
        calls.append(1)
        return ["Simon & Garfunkel", "Ana Lindqvist"]

    plain = [_track("Various Artists", "Zoë Novák"), _track("Ana Lindqvist")]
    TagIndex.load(plain, listing=listing)
    assert calls == []

    # The listing says "Simon & Garfunkel" is one artist (the cache does not know it yet).
    credited = [
        _track("Foo", "Simon & Garfunkel & Guest"),
        _track("Bar", "Simon & Garfunkel / Other Guest"),
        _track("Ana Lindqvist", "Ana Lindqvist feat. Bo Reyes"),
    ]
    index = TagIndex.load(credited, listing=listing)
    assert calls == [1]
    assert index.artists_of(credited[0]) == ("simon and garfunkel", "guest", "foo")
    assert index.artists_of(credited[1]) == ("simon and garfunkel", "other guest", "bar")
