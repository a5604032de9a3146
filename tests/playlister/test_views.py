"""The custom playlists page."""

from __future__ import annotations

import pytest

from playlister.models import CustomPlaylist

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/playlists/")
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_create_a_custom_playlist_from_the_form(client_in):
    response = client_in.post(
        "/playlists/",
        {
            "name": "Rainy",
            "genres": "Indie Rock, folk",
            "moods": "",
            "target_size": 30,
            "strategy": "quality",
            "enabled": "on",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    custom = CustomPlaylist.objects.get()
    assert (custom.genres, custom.moods, custom.target_size) == (["indie rock", "folk"], [], 30)
    assert b"Rainy" in response.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "X", "genres": "", "moods": ""}, "Choose at least one genre or mood."),
        ({"name": "X", "genres": "a, b, c"}, "At most 2 genres."),
        ({"name": "X", "genres": "rock", "target_size": 5}, "greater than or equal to 10"),
        ({"name": "X", "genres": "rock", "target_size": 500}, "less than or equal to 200"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_changes_nothing(client_in, data, message):
    payload = {"target_size": 50, "strategy": "balanced", **data}
    response = client_in.post("/playlists/", payload, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CustomPlaylist.objects.exists()


def test_toggle_and_delete(client_in):
    custom = CustomPlaylist.objects.create(name="Calm", moods=["calm"])
    assert client_in.post(f"/playlists/custom/{custom.pk}/toggle").status_code == 302
    assert not CustomPlaylist.objects.get().enabled
    assert client_in.post(f"/playlists/custom/{custom.pk}/delete").status_code == 302
    assert not CustomPlaylist.objects.exists()
    assert client_in.post("/playlists/custom/999/delete").status_code == 404
