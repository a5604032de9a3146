"""Fixtures of the playlist tests."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def client_in(client):
    """The test client, logged in as a plain user."""
    user = get_user_model().objects.create_user("ann", password="pw-for-tests")
    client.force_login(user)
    return client
