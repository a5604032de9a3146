"""The Spotify client on its own, against the fake Spotify over real HTTP: the token and
its renewal, the exact-name match, genres that are empty or missing, 429 and Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from enrichment.fakes import FakeSpotify, Library, RateLimit
from enrichment.http import PermanentProviderError, ProviderConfigError, ProviderSession
from enrichment.spotify import SpotifyArtist, SpotifyClient

CLIENT_ID = "spotify-client-id-0123"
CLIENT_SECRET = "spotify-client-secret-4567"


@pytest.fixture
def spotify(library: Library) -> Iterator[FakeSpotify]:
    with FakeSpotify(library, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as server:
        yield server


def client_for(server: FakeSpotify, *, secret: str = CLIENT_SECRET) -> SpotifyClient:
    # A tiny backoff: a wait the client takes beyond it is the server's Retry-After.
    session = ProviderSession(
        provider="Spotify", timeout=5, max_attempts=3, backoff_base=0.01, backoff_cap=0.02
    )
    return SpotifyClient(
        token_url=f"{server.url}/api/token",
        api_url=f"{server.url}/v1",
        client_id=CLIENT_ID,
        client_secret=secret,
        session=session,
    )


def in_catalogue(server: FakeSpotify, library: Library, *, genres: bool = True):
    """A library artist Spotify has (with genres, or with none) and its catalogue entry."""
    for artist in library.artists:
        entry = server.artist_entry(artist)
        if entry is not None and bool(entry.get("genres")) == genres:
            return artist, entry
    raise LookupError("no such artist in the test library")


def test_an_artist_is_found_by_its_exact_name_with_its_genres(spotify, library):
    artist, entry = in_catalogue(spotify, library)
    found = client_for(spotify).find_artist(artist.title)
    assert found == SpotifyArtist(
        spotify_id=str(entry["id"]), name=artist.title, genres=list(entry["genres"])
    )


def test_partial_matches_and_unknown_names_are_no_artist(spotify, library):
    client = client_for(spotify)
    artist, _ = in_catalogue(spotify, library)
    # Spotify's search answers other artists that share a word; only the name itself counts.
    longest = max(artist.title.split(), key=len)
    tribute = f"{longest} Tribute Orchestra"
    assert spotify.search(f'artist:"{tribute}"')  # there are results, just not this name
    assert client.find_artist(tribute) is None
    assert client.find_artist("Nobody By This Name") is None


def test_genres_may_be_empty_or_missing_altogether(library, spotify):
    artist, _ = in_catalogue(spotify, library, genres=False)
    assert client_for(spotify).find_artist(artist.title).genres == []
    # Deprecated since February 2026: an answer may leave the field out.
    with FakeSpotify(
        library, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, no_genres_field=1.0
    ) as without:
        artist, entry = in_catalogue(without, library, genres=False)
        assert "genres" not in entry
        assert client_for(without).find_artist(artist.title).genres == []


def test_one_token_serves_many_searches_and_an_expired_one_is_renewed_once(spotify, library):
    client = client_for(spotify)
    names = [a.title for a in library.artists[:3]]
    for name in names:
        client.find_artist(name)
    assert (spotify.request_count("token"), spotify.request_count("search")) == (1, 3)

    spotify.expire_tokens()  # the token expired while the client still holds it
    artist, _ = in_catalogue(spotify, library)
    assert client.find_artist(artist.title).name == artist.title
    assert (spotify.request_count("token"), spotify.request_count("search")) == (2, 5)
    statuses = [r.status for r in spotify.records("search")]
    assert statuses[-2:] == [401, 200]


def test_a_token_refused_even_when_new_is_an_error_not_a_loop(library):
    with FakeSpotify(
        library, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_ttl=0
    ) as server:
        with pytest.raises(PermanentProviderError, match="HTTP 401"):
            client_for(server).find_artist(library.artists[0].title)
        assert (server.request_count("token"), server.request_count("search")) == (2, 2)


def test_refused_credentials_fail_at_once_naming_the_settings_never_the_secret(spotify, library):
    with pytest.raises(ProviderConfigError) as raised:
        client_for(spotify, secret="not-the-secret").find_artist(library.artists[0].title)
    message = str(raised.value)
    assert (
        "PLAYLISTER_SPOTIFY_CLIENT_ID" in message and "PLAYLISTER_SPOTIFY_CLIENT_SECRET" in message
    )
    assert "not-the-secret" not in message and CLIENT_SECRET not in message
    assert spotify.request_count("token") == 1  # not retried: it cannot pass
    with pytest.raises(ProviderConfigError, match="no credentials"):
        client_for(spotify, secret="")


def test_a_429_is_retried_after_the_retry_after_it_names(library):
    limit = RateLimit(max_requests=1, window_seconds=1.5, endpoints=frozenset({"search"}))
    with FakeSpotify(
        library, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limit=limit
    ) as server:
        artist, _ = in_catalogue(server, library)
        client = client_for(server)
        client.find_artist(artist.title)
        assert client.find_artist(artist.title).name == artist.title
        first, limited, retried = server.records("search")
    assert (first.status, limited.status, retried.status) == (200, 429, 200)
    # Retry-After is 1 or 2 s here; the backoff alone would have asked again within 20 ms.
    assert retried.at - limited.at >= 0.95
