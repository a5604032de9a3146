from __future__ import annotations

import itertools
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


def test_threads_and_processes_sharing_a_limit_each_get_a_slot_of_their_own():
    # Two limiters of one name stand for two processes (each opens the state file itself);
    # four threads share each. Every reservation must take a distinct slot, one interval
    # after another: a lost update would hand two requests the same slot. (Slots only are
    # taken, nobody waits for them; at 1/s they stand far apart from any timing noise.)
    name = f"test-{uuid.uuid4().hex[:8]}"
    limiters = [RateLimiter(name, rate=1), RateLimiter(name, rate=1)]
    slots: list[float] = []
    lock = threading.Lock()

    def take(limiter: RateLimiter) -> None:
        for _ in range(250):
            at = time.time() + limiter.reserve()
            with lock:
                slots.append(at)

    threads = [threading.Thread(target=take, args=(limiters[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for limiter in limiters:
        limiter.close()
    slots.sort()
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert len(slots) == 2000
    assert min(gaps) >= SPACING_MARGIN / 2, min(gaps)
