"""The fake AudioMuse-AI server and the real client against it, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from enrichment.audiomuse import AudioMuseClient, parse_scores
from enrichment.fakes import AnalyzedTrack, FakeAudioMuse, Library
from enrichment.http import ProviderConfigError, ProviderSession, TransientProviderError
from jobs.retry import TransientError

TOKEN = "test-audiomuse-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def fake(library: Library) -> Iterator[FakeAudioMuse]:
    with FakeAudioMuse(library, token=TOKEN) as server:
        yield server


def client_for(fake: FakeAudioMuse, *, token: str = TOKEN, attempts: int = 3) -> AudioMuseClient:
    session = ProviderSession(provider="AudioMuse-AI", timeout=5, max_attempts=attempts)
    return AudioMuseClient(base_url=fake.url + "/", token=token, session=session)


def get(fake: FakeAudioMuse, path: str, **params: str) -> requests.Response:
    return requests.get(fake.url + path, params=params, headers=AUTH, timeout=5)


# -- the fake ------------------------------------------------------------------------------------


def test_index_pages_cap_the_limit_at_1000_and_link_the_next_page() -> None:
    tracks = [AnalyzedTrack(str(i), f"T{i}", "A", "B") for i in range(1, 2_501)]
    with FakeAudioMuse(tracks, token=TOKEN) as fake:
        first = get(fake, "/api/sync", fields="index", page="1", limit="5000").json()
        last = get(fake, "/api/sync", fields="index", page="3", limit="1000").json()
    assert len(first["tracks"]) == 1000
    assert first["tracks"][0] == {"id": "1", "fp": fake.fingerprint("1")}
    assert (first["total_tracks"], first["provider_type"]) == (2500, "plex")
    assert (first["has_more"], first["next_page"]) == (True, 2)
    assert len(last["tracks"]) == 500
    assert (last["has_more"], last["next_page"]) == (False, None)


def test_full_payloads_carry_score_strings_and_embeddings_unless_declined(fake) -> None:
    first, second = fake.ids()[:2]
    body = get(fake, "/api/sync", ids=f"{first},999999,{second}").json()
    assert [t["id"] for t in body["tracks"]] == [first, second]  # the unknown id is left out
    track = body["tracks"][0]
    assert isinstance(track["mood_vector"], str) and ":" in track["mood_vector"]
    assert track["other_features"].startswith("danceable:")
    assert len(track["embedding"]) == 200
    assert fake.embeddings_sent == 2
    lean = get(fake, "/api/sync", ids=first, include_embeddings="false").json()["tracks"][0]
    assert "embedding" not in lean
    assert lean == fake.features(first)
    assert (fake.full_payload_requests, fake.ids_fetched) == (2, 3)


def test_features_are_deterministic_until_a_track_changes(library: Library) -> None:
    with (
        FakeAudioMuse(library, token=TOKEN) as one,
        FakeAudioMuse(library, token=TOKEN) as two,
    ):
        track_id = one.ids()[5]
        assert one.features(track_id) == two.features(track_id)
        before = one.features(track_id)
        new_fp = one.change_track(track_id)
        assert new_fp != before["fp"] and one.features(track_id)["fp"] == new_fp
        assert one.features(track_id) != before
        one.remove_track(track_id)
        assert track_id not in one.ids()


def test_requests_need_the_bearer_token(fake) -> None:
    assert requests.get(fake.url + "/api/sync?fields=index", timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    response = requests.get(fake.url + "/api/sync?fields=index", headers=wrong, timeout=5)
    assert response.status_code == 401
    assert get(fake, "/api/sync", fields="index").status_code == 200


def test_503_n_times_then_recovers_with_retry_after(fake) -> None:
    fake.fail(2, retry_after=7)
    answers = [get(fake, "/api/health") for _ in range(3)]
    assert [r.status_code for r in answers] == [503, 503, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert fake.unavailable_answers == 2
    fake.unavailable = True
    assert get(fake, "/api/sync", fields="index").status_code == 503
    fake.unavailable = False
    assert get(fake, "/api/sync", fields="index").status_code == 200


def test_503_after_some_requests_only_on_chosen_endpoints(fake) -> None:
    fake.fail(None, after=1, endpoints={"sync-index"})
    assert get(fake, "/api/sync", fields="index").status_code == 200
    assert get(fake, "/api/health").status_code == 200
    assert get(fake, "/api/sync", fields="index").status_code == 503
    assert get(fake, "/api/sync", ids=fake.ids()[0]).status_code == 200


# -- the client ----------------------------------------------------------------------------------


def test_parse_scores_turns_label_score_strings_into_floats() -> None:
    assert parse_scores("rock:0.54,indie pop:0.2") == {"rock": 0.54, "indie pop": 0.2}
    assert parse_scores("a:b:0.5, bad, c:x, :0.3,d:nan") == {"a:b": 0.5}
    assert parse_scores({"rock": "0.5"}) == {"rock": 0.5}
    assert parse_scores(None) == {} and parse_scores("") == {}


def test_client_reads_index_and_payloads_without_embeddings(fake) -> None:
    with client_for(fake) as client:
        page = client.index_page(1)
        assert page.total_tracks == len(fake.ids()) and not page.has_more
        assert [e.id for e in page.entries] == fake.ids()
        wanted = [e.id for e in page.entries[:3]]
        tracks = client.fetch([*wanted, "424242"])
    assert [t.id for t in tracks] == wanted
    expected = fake.features(wanted[0])
    first = tracks[0]
    assert (first.title, first.artist, first.album) == (
        expected["title"],
        expected["artist"],
        expected["album"],
    )
    assert first.tempo == expected["tempo"] and first.energy == expected["energy"]
    assert first.mood_vector == parse_scores(expected["mood_vector"])
    assert first.mood_vector and all(isinstance(v, float) for v in first.mood_vector.values())
    assert set(first.other_features) == {
        "danceable",
        "aggressive",
        "happy",
        "party",
        "relaxed",
        "sad",
    }
    assert first.fp == fake.fingerprint(wanted[0])
    assert fake.embeddings_sent == 0


def test_client_health_and_similar_tracks(fake) -> None:
    with client_for(fake) as client:
        assert client.health()["status"] == "ok"
        origin = fake.ids()[0]
        similar = client.similar_tracks(origin, n=5)
    assert len(similar) == 5 and origin not in [s.id for s in similar]
    assert [s.distance for s in similar] == sorted(s.distance for s in similar)


def test_client_retries_a_503_and_then_reports_it_as_transient(fake) -> None:
    fake.fail(1, retry_after=0)
    with client_for(fake) as client:
        assert client.index_page(1).entries
        fake.fail(None, retry_after=0)
        with pytest.raises(TransientProviderError) as caught:
            client.index_page(1)
    assert isinstance(caught.value, TransientError)
    assert caught.value.status == 503 and "503" in str(caught.value)
    assert fake.unavailable_answers == 1 + 3  # one recovered, then all three attempts


def test_a_rejected_token_is_permanent_and_names_the_setting(fake) -> None:
    with client_for(fake, token="s3cret-wrong") as client, pytest.raises(ProviderConfigError) as e:
        client.index_page(1)
    assert "PLAYLISTER_AUDIOMUSE_TOKEN" in str(e.value)
    assert "s3cret-wrong" not in str(e.value) and "s3cret-wrong" not in repr(client)
    assert fake.request_count() == 1  # not retried
