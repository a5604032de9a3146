from __future__ import annotations

import bisect
import threading
import time
import uuid

import pytest

from enrichment.ratelimit import WINDOW_MARGIN, RateLimiter, window_for
from jobs.cancel import CancelEvent, JobCancelled


def _most_in_a_second(times: list[float], seconds: float = 1.0) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, t + seconds, lo=i) - i for i, t in enumerate(times))


def test_no_second_holds_more_requests_than_the_rate():
    limiter = RateLimiter(f"test-{uuid.uuid4().hex[:8]}", rate=20)
    started = time.monotonic()
    left = []
    for _ in range(41):
        limiter.acquire(CancelEvent())
        left.append(time.monotonic())
    # A quiet limiter lets 20 go within half a second, 20 more a window later, then the 41st.
    assert _most_in_a_second(left) == 20
    assert time.monotonic() - started >= 2 * (1 + WINDOW_MARGIN) - 0.01


@pytest.mark.parametrize(
    ("rate", "window"), [(5, (5, 1.0)), (2.5, (2, 1.0)), (0.2, (1, 5.0)), (1000, (1000, 1.0))]
)
def test_a_fractional_rate_rounds_down_within_every_second(rate, window):
    assert window_for(rate) == window


def test_a_cancel_cuts_a_rate_limit_wait_short():
    limiter = RateLimiter(f"test-{uuid.uuid4().hex[:8]}", rate=0.2)
    token = CancelEvent()
    limiter.acquire(token)  # free
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(JobCancelled):
        limiter.acquire(token)  # would wait about 5 s
    assert time.monotonic() - started < 1.0


def test_threads_and_processes_sharing_a_limit_stay_within_it_together():
    # Two limiters of one name stand for two processes (each opens the state file itself);
    # four threads share each. A lost update would let two requests count as one: more than
    # the rate would leave within a second.
    name = f"test-{uuid.uuid4().hex[:8]}"
    limiters = [RateLimiter(name, rate=5), RateLimiter(name, rate=5)]
    left: list[float] = []
    lock = threading.Lock()

    def take(limiter: RateLimiter) -> None:
        for _ in range(3):
            limiter.acquire(CancelEvent())
            with lock:
                left.append(time.monotonic())

    threads = [threading.Thread(target=take, args=(limiters[n % 2],)) for n in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for limiter in limiters:
        limiter.close()
    assert len(left) == 24
    # Each thread records a little after it was let go: within the margin of a window.
    assert _most_in_a_second(left, seconds=0.95) <= 5
    # 24 requests at 5 per window: the 21st to 24th leave four windows after the first.
    assert time.monotonic() - started >= 4 * (1 + WINDOW_MARGIN) - 0.05
