"""Cooperative cancellation: the Python analogue of the seed's ``AbortSignal``.

Core services check ``cancel.cancelled`` / call ``cancel.raise_if_cancelled()`` at their
checkpoints and wait with ``cancel.wait(seconds)`` so that a cancel cuts a backoff, a
``Retry-After`` or a rate-limit pause short. Who sets the token differs per route: SIGINT on
the CLI, the job's reporter thread in a worker (it watches the live store and the row).
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable


class JobCancelled(Exception):
    """Raised at a checkpoint once the job has been asked to stop."""

    def __init__(self, message: str = "Cancelled") -> None:
        super().__init__(message)


@runtime_checkable
class CancelToken(Protocol):
    @property
    def cancelled(self) -> bool: ...

    def raise_if_cancelled(self) -> None: ...

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True at once if (or as soon as) cancelled."""
        ...


class CancelEvent:
    """A token backed by a ``threading.Event``; ``cancel()`` may be called from any thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "Cancelled"

    def cancel(self, reason: str = "Cancelled") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise JobCancelled(self.reason)

    def wait(self, seconds: float) -> bool:
        return self._event.wait(max(0.0, seconds))


class _Never:
    """A token that is never cancelled (the default for direct calls)."""

    @property
    def cancelled(self) -> bool:
        return False

    def raise_if_cancelled(self) -> None:
        pass

    def wait(self, seconds: float) -> bool:
        threading.Event().wait(max(0.0, seconds))
        return False


NEVER: CancelToken = _Never()
