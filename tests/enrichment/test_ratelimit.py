from __future__ import annotations

import threading
import time
import uuid

import pytest

from enrichment.ratelimit import SPACING_MARGIN, RateLimiter
from jobs.cancel import CancelEvent, JobCancelled


def test_requests_are_spaced_to_the_rate():
    limiter = RateLimiter(f"test-{uuid.uuid4().hex[:8]}", rate=20)
    started = time.monotonic()
    for _ in range(11):
        limiter.acquire(CancelEvent())
    # 10 intervals after the first, free request
    assert time.monotonic() - started >= 10 * SPACING_MARGIN / 20 - 0.01


def test_a_cancel_cuts_a_rate_limit_wait_short():
    limiter = RateLimiter(f"test-{uuid.uuid4().hex[:8]}", rate=0.2)
    token = CancelEvent()
    limiter.acquire(token)  # free
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(JobCancelled):
        limiter.acquire(token)  # would wait about 5 s
    assert time.monotonic() - started < 1.0
