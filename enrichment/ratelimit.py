"""A request-rate limit per provider that holds across every process of a deployment.

GCRA (the "virtual scheduling" form of a leaky bucket): the shared state is one number,
the theoretical arrival time (TAT) of the next request. Each request reserves the slot at
``max(TAT, now)`` and pushes TAT one interval on; the caller waits until its slot. With the
interval a little longer than ``1/rate``, no 1-second window ever sees more than ``rate``
requests, whatever the number of threads, workers or hosts.

State lives in Redis (an atomic Lua script, using Redis's clock) in the scaled mode, and in
a file under ``PLAYLISTER_DATA_DIR`` guarded by ``flock`` in the embedded mode (one host).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from jobs.cancel import CancelToken, pause
from jobs.perprocess import PerProcess

# Requests reach the provider with some jitter (a thread woken late on a busy machine);
# spacing them 8 % wider than 1/rate keeps every 1-second window at or below the rate
# unless the first of rate+1 requests arrives 80 ms later than the last. Measured on a
# 2-core machine running three test suites at once: 5 % (50 ms) was once not enough.
SPACING_MARGIN = 1.08

# The file holds the TAT as text, padded to a fixed width so that each update is one
# ``pwrite`` over the old value (no truncate); readers strip the padding.
_FILE_WIDTH = 32

_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local ttl = math.ceil((tat + interval - now) * 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.6f', tat + interval), 'PX', ttl)
return string.format('%.6f', tat - now)
"""


def _new_redis() -> Any:
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


_redis = PerProcess(_new_redis)


class RateLimiter:
    """``acquire(cancel)`` blocks until this process may send one request."""

    def __init__(self, name: str, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.name = name
        self.rate = rate
        self.interval = SPACING_MARGIN / rate
        # The embedded mode's state file stays open for the limiter's life: opening it, and
        # creating its directory, for every request cost more than the request's own CPU.
        # The lock serialises this process's threads (``flock`` would not: they share one
        # open file, and the lock belongs to it); ``flock`` serialises the processes.
        self._lock = threading.Lock()
        self._fd = PerProcess(self._open)

    def reserve(self) -> float:
        """Take the next slot; the seconds to wait for it."""
        if settings.REDIS_URL:
            key = f"{settings.PLAYLISTER_CACHE_PREFIX}:ratelimit:{self.name}"
            return float(_redis.get().eval(_GCRA_LUA, 1, key, f"{self.interval:.6f}"))
        return self._reserve_file()

    def _reserve_file(self) -> float:
        with self._lock:
            fd = self._fd.get()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                text = os.pread(fd, _FILE_WIDTH, 0).strip()
                now = time.time()
                tat = max(float(text) if text else 0.0, now)
                os.pwrite(fd, f"{tat + self.interval:.6f}".encode().ljust(_FILE_WIDTH), 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        return tat - now

    def _open(self) -> int:
        path = Path(settings.DATA_DIR) / "ratelimit" / self.name
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)

    def close(self) -> None:
        with self._lock:
            fd = self._fd.discard()
            if fd is not None:
                os.close(fd)

    def acquire(self, cancel: CancelToken) -> float:
        """Wait for this request's slot; the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            pause(cancel, wait)
        return max(0.0, wait)
