"""A request-rate limit per provider that holds across every process of a deployment.

A sliding window log: at most ``n = floor(rate)`` requests (one, below 1/s) in any window of
``n / rate`` seconds — 5 requests/s is at most 5 in any second. The shared state is the ring
of the times of the last ``n`` requests. A request may leave when the one ``n`` requests
before it left at least a window (plus ``WINDOW_MARGIN``) ago; it is recorded at the moment
it is let go, so a thread woken late on a busy machine is counted when it really leaves, and
no slot handed out in advance can go stale. Otherwise the caller waits until that time and
asks again. Requests also leave at least half of ``1/rate`` apart, so that a quiet
provider gets a short, spread burst. Every second of a steady stream is used but for the
margin (the spacing 8 % over ``1/rate`` that this replaced left 7 % of the limit idle).

State lives in Redis (an atomic Lua script, using Redis's clock) in the scaled mode, and in
a file under ``PLAYLISTER_DATA_DIR`` guarded by ``flock`` in the embedded mode (one host).
"""

from __future__ import annotations

import fcntl
import math
import os
import struct
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from jobs.cancel import CancelToken, pause
from jobs.perprocess import PerProcess

# Added to every window: between being let go and reaching the provider a request crosses
# the client's and the server's thread scheduling, which on a busy 2-core machine shifted
# requests by 10 to 16 ms against each other (the fake's arrival times, fakes in a process
# of their own), and by more with the fakes in the test process.
WINDOW_MARGIN = 0.05

# Requests leave at least this fraction of 1/rate apart: a burst of n requests at once would
# reach the provider's server together and be handled one after another, spread over more
# than the margin above (seen with the fakes in the test process).
MIN_GAP = 0.5

# The ring in Redis: a list of the last n times, oldest first (Redis's clock only grows, so
# RPUSH and LTRIM keep it sorted). Returns 0 when the request may leave (and records it),
# else the seconds until it may ask again.
_WINDOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local gap = tonumber(ARGV[3])
local size = redis.call('LLEN', KEYS[1])
local free_at = 0
if size > 0 then free_at = tonumber(redis.call('LINDEX', KEYS[1], -1)) + gap end
if size >= n then
  free_at = math.max(free_at, tonumber(redis.call('LINDEX', KEYS[1], -n)) + span)
end
if free_at > now then return string.format('%.6f', free_at - now) end
redis.call('RPUSH', KEYS[1], string.format('%.6f', now))
redis.call('LTRIM', KEYS[1], -n, -1)
redis.call('PEXPIRE', KEYS[1], math.ceil(span * 1000) + 1000)
return '0'
"""

# The ring in a file: the next position, then n times (doubles); a few bytes read and
# written per request, whatever n is.
_HEAD = struct.Struct("<q")
_SLOT = struct.Struct("<d")


def window_for(rate: float) -> tuple[int, float]:
    """(n, seconds): at most n requests in any window of that many seconds."""
    if rate >= 1:
        return math.floor(rate), 1.0
    return 1, 1.0 / rate


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
        self.count, self.window = window_for(rate)
        self.span = self.window + WINDOW_MARGIN
        self.gap = MIN_GAP * self.window / self.count
        # The embedded mode's state file stays open for the limiter's life: opening it, and
        # creating its directory, for every request cost more than the request's own CPU.
        # The lock serialises this process's threads (``flock`` would not: they share one
        # open file, and the lock belongs to it); ``flock`` serialises the processes.
        self._lock = threading.Lock()
        self._fd = PerProcess(self._open)

    def try_take(self) -> float:
        """0 if a request may leave now (it is counted), else the seconds to wait first."""
        if settings.REDIS_URL:
            key = f"{settings.PLAYLISTER_CACHE_PREFIX}:ratelimit:{self.name}"
            span, gap = f"{self.span:.6f}", f"{self.gap:.6f}"
            return float(_redis.get().eval(_WINDOW_LUA, 1, key, str(self.count), span, gap))
        return self._try_take_file()

    def _try_take_file(self) -> float:
        with self._lock:
            fd = self._fd.get()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                head = os.pread(fd, _HEAD.size, 0)
                taken = _HEAD.unpack(head)[0] if len(head) == _HEAD.size else 0
                at = _HEAD.size + taken % self.count * _SLOT.size
                oldest, newest = (
                    self._slot(fd, at),
                    self._slot(fd, _HEAD.size + (taken - 1) % self.count * _SLOT.size),
                )
                now = time.time()
                free_at = max(oldest + self.span, newest + self.gap)
                if free_at > now:
                    return free_at - now
                os.pwrite(fd, _SLOT.pack(now), at)
                os.pwrite(fd, _HEAD.pack(taken + 1), 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        return 0.0

    @staticmethod
    def _slot(fd: int, at: int) -> float:
        data = os.pread(fd, _SLOT.size, at)
        return float(_SLOT.unpack(data)[0]) if len(data) == _SLOT.size else 0.0

    def _open(self) -> int:
        path = Path(settings.DATA_DIR) / "ratelimit" / f"{self.name}.ring"
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)

    def close(self) -> None:
        with self._lock:
            fd = self._fd.discard()
            if fd is not None:
                os.close(fd)

    def acquire(self, cancel: CancelToken) -> float:
        """Wait until this request may leave; the seconds waited."""
        began: float | None = None
        while (wait := self.try_take()) > 0:
            began = time.monotonic() if began is None else began
            pause(cancel, wait)
        return 0.0 if began is None else time.monotonic() - began
