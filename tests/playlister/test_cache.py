from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis")


def test_the_redis_caches_work_and_reuse_one_client():
    live = caches["live"]
    live.set("cache-test", {"a": 1}, 30)
    assert live.get("cache-test") == {"a": 1}
    assert live.get_many(["cache-test", "missing"]) == {"cache-test": {"a": 1}}
    live.delete("cache-test")
    assert live.get("cache-test") is None
    client = live._cache
    assert client.get_client() is client.get_client()
    assert client.get_client(write=True) is client.get_client(write=True)
