"""The fake Last.fm and Spotify APIs driven with requests over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from enrichment.fakes import FakeLastFm, FakeSpotify, FaultPlan, Library, RateLimit
from tests.enrichment.helpers import lastfm_known

API_KEY = "test-lastfm-key"
CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"


@pytest.fixture
def lastfm(library: Library) -> Iterator[FakeLastFm]:
    with FakeLastFm(library, api_key=API_KEY, suspended_api_keys={"suspended-key"}) as server:
        yield server


@pytest.fixture
def spotify(library: Library) -> Iterator[FakeSpotify]:
    with FakeSpotify(library, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as server:
        yield server


def _top_tags(server: FakeLastFm, artist: str, **extra: str) -> requests.Response:
    params = {
        "method": "artist.getTopTags",
        "artist": artist,
        "api_key": API_KEY,
        "format": "json",
        "autocorrect": "1",
        **extra,
    }
    return requests.get(f"{server.url}/2.0/", params=params, timeout=5)


# -- Last.fm -------------------------------------------------------------------------------


def test_lastfm_top_tags_shape(lastfm: FakeLastFm, library: Library) -> None:
    artist, expected = lastfm_known(lastfm, library)

    response = _top_tags(lastfm, artist.title)

    assert response.status_code == 200
    toptags = response.json()["toptags"]
    assert toptags["@attr"] == {"artist": artist.title}
    assert isinstance(toptags["tag"], list)
    assert [(t["name"], t["count"]) for t in toptags["tag"]] == expected
    assert all(t["url"].startswith("https://www.last.fm/tag/") for t in toptags["tag"])
    counts = [t["count"] for t in toptags["tag"]]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == 100
    assert artist.genres[0].lower() == toptags["tag"][0]["name"]
    assert lastfm.request_count("artist.getTopTags") == 1


def test_lastfm_tags_mix_genres_with_low_count_noise(lastfm: FakeLastFm, library: Library) -> None:
    genre_names = {g.lower() for a in library.artists for g in a.genres + a.styles}
    noise_counts = [
        count
        for artist in library.artists
        for name, count in lastfm.artist_tags(artist) or []
        if name not in genre_names
    ]
    assert noise_counts
    assert max(noise_counts) <= 50


def test_lastfm_single_tag_is_a_bare_object(lastfm: FakeLastFm, library: Library) -> None:
    artist, expected = lastfm_known(lastfm, library, count=1)

    tag = _top_tags(lastfm, artist.title).json()["toptags"]["tag"]

    assert isinstance(tag, dict)
    assert (tag["name"], tag["count"]) == expected[0]


def test_lastfm_autocorrect_forgives_case_and_accents(lastfm: FakeLastFm, library: Library) -> None:
    artist = next(
        a
        for a in library.artists
        if a.title.isascii() is False and lastfm.artist_tags(a) is not None
    )
    sloppy = artist.title.upper().replace("É", "E").replace("Ö", "O").replace("Ø", "O")
    body = _top_tags(lastfm, sloppy).json()
    assert body["toptags"]["@attr"]["artist"] == artist.title


def test_lastfm_album_top_tags(lastfm: FakeLastFm, library: Library) -> None:
    album = next(
        b
        for b in library.albums
        if lastfm.artist_tags(library.artist(b.artist_key)) is not None and lastfm.album_tags(b)
    )
    artist = library.artist(album.artist_key)
    response = _top_tags(lastfm, artist.title, method="album.getTopTags", album=album.title)
    toptags = response.json()["toptags"]
    assert toptags["@attr"] == {"artist": artist.title, "album": album.title}
    assert lastfm.request_count("album.getTopTags") == 1


def test_lastfm_unknown_artist_is_error_6_with_http_200(lastfm: FakeLastFm) -> None:
    response = _top_tags(lastfm, "Nobody Has Ever Heard Of Us")
    assert response.status_code == 200
    assert response.json() == {
        "error": 6,
        "message": "The artist you supplied could not be found",
        "links": [],
    }


def test_lastfm_invalid_and_suspended_keys(lastfm: FakeLastFm, library: Library) -> None:
    name = library.artists[0].title
    bad = _top_tags(lastfm, name, api_key="wrong")
    assert bad.status_code == 403
    assert bad.json()["error"] == 10
    assert _top_tags(lastfm, name, api_key="suspended-key").json()["error"] == 26

    lastfm.invalid_key_status = 200
    bad_200 = _top_tags(lastfm, name, api_key="wrong")
    assert bad_200.status_code == 200
    assert bad_200.json()["error"] == 10


def test_lastfm_rate_limit_is_error_29(library: Library) -> None:
    name = library.artists[0].title
    limit = RateLimit(max_requests=2, window_seconds=60)
    with FakeLastFm(library, api_key=API_KEY, rate_limit=limit) as lastfm:
        statuses = [_top_tags(lastfm, name).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = _top_tags(lastfm, name)
        assert limited.json()["error"] == 29
        assert int(limited.headers["Retry-After"]) >= 1

        lastfm.rate_limit_status = 200
        quiet = _top_tags(lastfm, name)
        assert quiet.status_code == 200
        assert quiet.json()["error"] == 29


# -- Spotify -------------------------------------------------------------------------------


def _token(server: FakeSpotify, secret: str = CLIENT_SECRET) -> requests.Response:
    return requests.post(
        f"{server.url}/api/token",
        data={"grant_type": "client_credentials"},
        auth=(CLIENT_ID, secret),
        timeout=5,
    )


def _search(server: FakeSpotify, token: str | None, name: str, limit: int = 5) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params: dict[str, str | int] = {"q": f'artist:"{name}"', "type": "artist", "limit": limit}
    return requests.get(f"{server.url}/v1/search", params=params, headers=headers, timeout=5)


def test_spotify_token_and_search(spotify: FakeSpotify, library: Library) -> None:
    token = _token(spotify)
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]

    artist = next(a for a in library.artists if spotify.artist_entry(a) is not None)
    response = _search(spotify, body["access_token"], artist.title)

    assert response.status_code == 200
    artists = response.json()["artists"]
    assert {"items", "total", "limit", "offset"} <= artists.keys()
    top = artists["items"][0]
    assert top["name"] == artist.title
    assert top["type"] == "artist"
    assert top["uri"] == f"spotify:artist:{top['id']}"
    assert len(top["id"]) == 22
    assert isinstance(top["genres"], list)
    assert 0 <= top["popularity"] <= 100
    assert artists["limit"] == 5
    assert spotify.request_count("token") == 1
    assert spotify.request_count("search") == 1


def test_spotify_genres_are_sometimes_empty(spotify: FakeSpotify, library: Library) -> None:
    entries = [e for a in library.artists if (e := spotify.artist_entry(a)) is not None]
    assert any(e["genres"] == [] for e in entries)
    assert any(e["genres"] for e in entries)


def test_spotify_bad_credentials(spotify: FakeSpotify) -> None:
    response = _token(spotify, secret="wrong")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client", "error_description": "Invalid client"}


def test_spotify_bearer_is_required(spotify: FakeSpotify, library: Library) -> None:
    name = library.artists[0].title
    missing = _search(spotify, None, name)
    assert missing.status_code == 401
    assert missing.json()["error"]["status"] == 401
    assert missing.json()["error"]["message"]
    assert _search(spotify, "made-up", name).status_code == 401

    token = _token(spotify).json()["access_token"]
    spotify.expire_tokens()
    expired = _search(spotify, token, name)
    assert expired.status_code == 401
    assert expired.json()["error"]["message"] == "The access token expired"


def test_spotify_limit_above_maximum_is_rejected(spotify: FakeSpotify, library: Library) -> None:
    token = _token(spotify).json()["access_token"]
    response = _search(spotify, token, library.artists[0].title, limit=11)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400


def test_spotify_429_carries_retry_after(spotify: FakeSpotify, library: Library) -> None:
    token = _token(spotify).json()["access_token"]
    spotify.set_faults(FaultPlan(rate_429=1.0, retry_after=7, endpoints=frozenset({"search"})))

    response = _search(spotify, token, library.artists[0].title)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["error"]["status"] == 429


def test_spotify_rolling_window_rate_limit(library: Library) -> None:
    limit = RateLimit(max_requests=3, window_seconds=30, endpoints=frozenset({"search"}))
    with FakeSpotify(
        library, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limit=limit
    ) as spotify:
        token = _token(spotify).json()["access_token"]
        statuses = [_search(spotify, token, library.artists[0].title).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]


def test_lastfm_unknown_method_is_error_3(lastfm: FakeLastFm, library: Library) -> None:
    response = _top_tags(lastfm, library.artists[0].title, method="artist.getNothing")
    assert response.status_code == 400
    assert response.json()["error"] == 3
    assert lastfm.request_count("unknown") == 1
