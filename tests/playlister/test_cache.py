"""The scaled mode's Redis caches (django-redis): what the live store and Django-Q2 rely on,
and one client per process rather than one per operation (docs/design.md, "Live store")."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches
from django_redis import get_redis_connection

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis")


def test_the_redis_caches_keep_what_the_live_store_puts_there():
    live = caches["live"]
    live.set("cache-test", {"a": 1, "text": "Björk ✓"}, 30)
    assert live.get("cache-test") == {"a": 1, "text": "Björk ✓"}
    assert live.get_many(["cache-test", "missing"]) == {"cache-test": {"a": 1, "text": "Björk ✓"}}
    assert caches["default"].get("cache-test") is None  # each alias has its own prefix
    assert live.add("cache-test", "other", 30) is False
    live.set("counter", 1, 30)
    assert live.incr("counter") == 2
    live.set("gone", 1, 0)  # a timeout of 0 expires at once, as Django's contract says
    assert live.get("gone", "default") == "default"
    live.delete_many(["cache-test", "counter"])
    assert live.get("cache-test") is None


def test_one_client_serves_every_operation_of_a_process():
    assert get_redis_connection("live") is get_redis_connection("live")
    # Both aliases point at one Redis: they share its connections too.
    live, default = get_redis_connection("live"), get_redis_connection("default")
    assert live.connection_pool is default.connection_pool
