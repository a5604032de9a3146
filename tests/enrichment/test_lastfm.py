"""The Last.fm client on its own, against the fake Last.fm over real HTTP: tags, the
single-tag object, the error codes in 200 bodies and in HTTP errors, 429 and Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrichment.fakes import FakeLastFm, FaultPlan, Library, RateLimit
from enrichment.http import (
    PermanentProviderError,
    ProviderConfigError,
    ProviderError,
    ProviderSession,
    TransientProviderError,
)
from enrichment.lastfm import LastFmClient, Tag, _check, _parse_tags
from jobs.retry import TransientError
from tests.enrichment.helpers import lastfm_known

API_KEY = "0123456789abcdef0123456789abcdef"
ATTEMPTS = 3


@pytest.fixture
def lastfm(library: Library) -> Iterator[FakeLastFm]:
    with FakeLastFm(library, api_key=API_KEY, suspended_api_keys={"suspended-key"}) as server:
        yield server


def client_for(server: FakeLastFm, api_key: str = API_KEY) -> LastFmClient:
    # A tiny backoff: a wait the client takes beyond it is the server's Retry-After.
    session = ProviderSession(
        provider="Last.fm", timeout=5, max_attempts=ATTEMPTS, backoff_base=0.01, backoff_cap=0.02
    )
    return LastFmClient(url=f"{server.url}/2.0/", api_key=api_key, session=session)


def test_an_artist_s_top_tags_come_back_in_order_with_their_counts(lastfm, library):
    artist, expected = lastfm_known(lastfm, library)
    assert client_for(lastfm).artist_top_tags(artist.title) == [Tag(n, c) for n, c in expected]
    assert lastfm.request_count() == 1


def test_a_single_tag_sent_as_a_bare_object_is_one_tag(lastfm, library):
    artist, [(name, count)] = lastfm_known(lastfm, library, count=1)
    assert client_for(lastfm).artist_top_tags(artist.title) == [Tag(name, count)]


def test_an_artist_without_tags_has_none_and_an_unknown_one_is_none(lastfm, library):
    client = client_for(lastfm)
    artist, _ = lastfm_known(lastfm, library, count=0)
    assert client.artist_top_tags(artist.title) == []
    # Error 6, "not found", comes with HTTP 200: an answer, asked once.
    lastfm.reset_counters()
    assert client.artist_top_tags("No Such Artist Anywhere") is None
    assert lastfm.request_count() == 1


def test_an_album_s_tags_and_an_unknown_album(lastfm, library):
    album = next(
        b
        for b in library.albums
        if lastfm.artist_tags(library.artist(b.artist_key)) is not None and lastfm.album_tags(b)
    )
    artist = library.artist(album.artist_key).title
    client = client_for(lastfm)
    expected = [Tag(n, c) for n, c in lastfm.album_tags(album)]
    assert client.album_top_tags(artist, album.title) == expected
    assert client.album_top_tags(artist, "An Album Never Made") is None


@pytest.mark.parametrize("status", [403, 200])
@pytest.mark.parametrize(("api_key", "code"), [("wrong-key", 10), ("suspended-key", 26)])
def test_a_rejected_key_fails_at_once_naming_the_setting_never_the_key(
    lastfm, library, status, api_key, code
):
    lastfm.invalid_key_status = status  # Last.fm sends these with HTTP 403 or 200
    with pytest.raises(ProviderConfigError) as raised:
        client_for(lastfm, api_key).artist_top_tags(library.artists[0].title)
    message = str(raised.value)
    assert f"error {code}" in message and "PLAYLISTER_LASTFM_API_KEY" in message
    assert api_key not in message
    assert lastfm.request_count() == 1  # not retried: it cannot pass


def test_a_429_is_retried_after_the_retry_after_it_names(library):
    artist, expected = lastfm_known(FakeLastFm(library, api_key=API_KEY), library)
    limit = RateLimit(max_requests=1, window_seconds=1.5)
    with FakeLastFm(library, api_key=API_KEY, rate_limit=limit) as server:
        client = client_for(server)
        client.artist_top_tags(artist.title)
        assert client.artist_top_tags(artist.title) == [Tag(n, c) for n, c in expected]
        first, limited, retried = server.records()
    assert (first.status, limited.status, retried.status) == (200, 429, 200)
    # Retry-After is 1 or 2 s here; the backoff alone would have asked again within 20 ms.
    assert retried.at - limited.at >= 0.95


def test_error_29_in_a_200_body_is_retried_then_reported_as_transient(library):
    name = library.artists[0].title
    limit = RateLimit(max_requests=1, window_seconds=60)
    with FakeLastFm(library, api_key=API_KEY, rate_limit=limit, rate_limit_status=200) as server:
        client = client_for(server)
        client.artist_top_tags(name)
        with pytest.raises(TransientProviderError, match="error 29") as raised:
            client.artist_top_tags(name)
        assert server.request_count() == 1 + ATTEMPTS
    # The job queue retries it later (jobs.retry), like a 429.
    assert isinstance(raised.value, TransientError)


@pytest.mark.parametrize(
    ("plan", "match"),
    # Last.fm's 500 carries error 8 in its body.
    [(FaultPlan(rate_500=1.0), "error 8"), (FaultPlan(rate_malformed=1.0), "malformed")],
)
def test_server_errors_and_cut_bodies_are_retried_then_transient(lastfm, library, plan, match):
    lastfm.set_faults(plan)
    with pytest.raises(TransientProviderError, match=match):
        client_for(lastfm).artist_top_tags(library.artists[0].title)
    assert lastfm.request_count() == ATTEMPTS


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"error": 8, "message": "Operation failed"}, TransientProviderError),
        ({"error": 11, "message": "Service Offline"}, TransientProviderError),
        ({"error": 16, "message": "Temporarily unavailable"}, TransientProviderError),
        ({"error": 4, "message": "Authentication Failed"}, PermanentProviderError),
        ({"artist": "no toptags here"}, TransientProviderError),
        (["not", "an", "object"], TransientProviderError),
    ],
)
def test_the_other_error_bodies_are_classified(body, error):
    with pytest.raises(error):
        _check(body, 200)


# Any JSON at all, and bodies shaped like an answer whose tags are any JSON.
json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=20,
)
tag = st.dictionaries(st.sampled_from(["name", "count", "url"]), json)
answers = st.builds(lambda tags: {"toptags": {"tag": tags}}, json | tag | st.lists(tag, max_size=4))


@given(json | answers)
def test_whatever_json_comes_back_the_client_answers_tags_or_a_provider_error(body):
    try:
        accepted = not _check(body, 200) and isinstance(body, dict)
    except ProviderError:
        return
    if accepted:  # an answer: tags with a name and a whole-number count, junk left out
        tags = _parse_tags(body)
        assert all(isinstance(t.name, str) and t.name and isinstance(t.count, int) for t in tags)
