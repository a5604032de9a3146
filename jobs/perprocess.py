"""One object per process, built on first use and built again in a forked child.

A cluster worker is a fork of its sentinel: a broker's socket, a Redis client, an open file
(its offset) or a thread the parent made must not be shared with it, and a thread does not
survive the fork at all. So each process builds its own, once.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class PerProcess[T]:
    """``get()``: this process's ``T``, built by ``build`` the first time it asks."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._held: tuple[int, T] | None = None

    def get(self) -> T:
        with self._lock:
            pid = os.getpid()
            if self._held is None or self._held[0] != pid:
                self._held = (pid, self._build())
            return self._held[1]

    def discard(self) -> T | None:
        """Forget the object; this process's own comes back (for closing), or None if it
        built none (the parent's, inherited through a fork, is not this process's to close)."""
        with self._lock:
            held, self._held = self._held, None
        return held[1] if held is not None and held[0] == os.getpid() else None
