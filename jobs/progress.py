"""The ``Progress`` protocol that core services report through, and simple implementations.

A core service calls ``start``/``advance``/``set``/``finish`` and never knows who listens:
the worker's tracker (live store + ``job_runs`` row), a terminal bar, log lines, or a test.
Implementations must be cheap and thread-safe: services call them from worker threads and
in tight loops.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from jobs.checkpoint import Checkpoint

if TYPE_CHECKING:
    from collections.abc import Callable


# One source ("plex") or several ("plex", "lastfm") when one item used more than one.
Sources = str | tuple[str, ...] | None


def source_names(source: Sources) -> tuple[str, ...]:
    if source is None:
        return ()
    return (source,) if isinstance(source, str) else source


@runtime_checkable
class Progress(Protocol):
    def start(self, total: int | None, message: str = "") -> None:
        """Begin (or re-begin) a phase of ``total`` steps (None: unknown)."""

    def advance(self, n: int = 1, message: str | None = None, source: Sources = None) -> None:
        """``n`` more steps are done; ``source`` counts them per provider (plex, lastfm, ...)."""

    def set(self, current: int, message: str | None = None) -> None:
        """Jump to an absolute position."""

    def finish(self, message: str | None = None) -> None:
        """The work is complete."""

    def checkpoint(self, cursor: Any) -> None:
        """Everything up to ``cursor`` (small JSON) is done and stored: a later attempt is
        called with ``cursor=`` and continues from there (``jobs.checkpoint``)."""


class NullProgress:
    """Listens to nothing; the default for services called without a listener."""

    def start(self, total: int | None, message: str = "") -> None:
        pass

    def advance(self, n: int = 1, message: str | None = None, source: Sources = None) -> None:
        pass

    def set(self, current: int, message: str | None = None) -> None:
        pass

    def finish(self, message: str | None = None) -> None:
        pass

    def checkpoint(self, cursor: Any) -> None:
        pass


NULL_PROGRESS = NullProgress()


@dataclass
class Snapshot:
    """A consistent copy of a progress state at one moment."""

    current: int = 0
    total: int | None = None
    message: str = ""
    source_counts: dict[str, int] = field(default_factory=dict)
    eta_seconds: float | None = None
    finished: bool = False
    version: int = 0


class ProgressState:
    """Thread-safe in-memory progress with an ETA from the observed rate.

    The rate is measured from the moment of ``start`` (or the first step after it), so a slow
    setup phase does not distort the estimate; ``clock`` is injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._current = 0
        self._total: int | None = None
        self._message = ""
        self._sources: dict[str, int] = {}
        self._finished = False
        self._version = 0
        self._rate_origin: tuple[float, int] | None = None
        self._phase = 0
        self._checkpoint: Checkpoint | None = None
        self._checkpoint_version = 0
        self._resume: Checkpoint | None = None
        # Set by a ``start`` that resumed a checkpoint's phase: the count it started at.
        self.resumed_at: int | None = None

    def start(self, total: int | None, message: str = "") -> None:
        with self._lock:
            self._phase += 1
            self._total = total
            self._current = 0
            self._message = message
            self._finished = False
            resume = self._resume
            self.resumed_at = None
            if resume is not None and resume.phase == self._phase:
                # The phase the saved cursor belongs to: it goes on from the saved count.
                self._current = self.resumed_at = resume.current
                self._sources = dict(resume.sources)
                self._resume = None
            self._rate_origin = (self._clock(), self._current)
            self._version += 1

    def resume_from(self, checkpoint: Checkpoint) -> None:
        """Continue ``checkpoint``: it is the last checkpoint until the service makes one,
        and its phase starts at its count."""
        with self._lock:
            self._resume = checkpoint
            self._checkpoint = checkpoint
            self._checkpoint_version += 1

    def checkpoint(self, cursor: Any) -> None:
        with self._lock:
            resumed = self._checkpoint.resumed if self._checkpoint is not None else None
            self._checkpoint = Checkpoint(
                cursor=cursor,
                phase=self._phase,
                current=self._current,
                total=self._total,
                sources=dict(self._sources),
                resumed=resumed,
            )
            self._checkpoint_version += 1

    def last_checkpoint(self) -> tuple[Checkpoint | None, int]:
        """The latest checkpoint and its version (it grows with each one)."""
        with self._lock:
            return self._checkpoint, self._checkpoint_version

    def advance(self, n: int = 1, message: str | None = None, source: Sources = None) -> None:
        with self._lock:
            if self._rate_origin is None:
                self._rate_origin = (self._clock(), self._current)
            self._current += n
            if message is not None:
                self._message = message
            for name in source_names(source):
                self._sources[name] = self._sources.get(name, 0) + n
            self._version += 1

    def set(self, current: int, message: str | None = None) -> None:
        with self._lock:
            if self._rate_origin is None:
                self._rate_origin = (self._clock(), self._current)
            self._current = current
            if message is not None:
                self._message = message
            self._version += 1

    def finish(self, message: str | None = None) -> None:
        with self._lock:
            if self._total is not None:
                self._current = max(self._current, self._total)
            if message is not None:
                self._message = message
            self._finished = True
            self._version += 1

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                current=self._current,
                total=self._total,
                message=self._message,
                source_counts=dict(self._sources),
                eta_seconds=self._eta_locked(),
                finished=self._finished,
                version=self._version,
            )

    def _eta_locked(self) -> float | None:
        if self._finished or self._total is None or self._rate_origin is None:
            return None
        origin_time, origin_current = self._rate_origin
        done = self._current - origin_current
        elapsed = self._clock() - origin_time
        if done <= 0 or elapsed <= 0:
            return None
        remaining = max(0, self._total - self._current)
        return remaining * elapsed / done


class MemoryProgress(ProgressState):
    """A ``Progress`` that only remembers: for tests and for callers that poll."""


class TeeProgress:
    """Sends every call to several listeners (the tracker and a terminal bar, say)."""

    def __init__(self, *listeners: Progress) -> None:
        self._listeners = listeners

    def start(self, total: int | None, message: str = "") -> None:
        for listener in self._listeners:
            listener.start(total, message)
        # A tracker resuming a checkpoint starts this phase at its saved count: so does the
        # bar beside it (``manage.py jobs resume``).
        leader = self._listeners[0] if self._listeners else None
        if isinstance(leader, ProgressState) and leader.resumed_at:
            for listener in self._listeners[1:]:
                listener.set(leader.resumed_at)

    def advance(self, n: int = 1, message: str | None = None, source: Sources = None) -> None:
        for listener in self._listeners:
            listener.advance(n, message, source)

    def set(self, current: int, message: str | None = None) -> None:
        for listener in self._listeners:
            listener.set(current, message)

    def finish(self, message: str | None = None) -> None:
        for listener in self._listeners:
            listener.finish(message)

    def checkpoint(self, cursor: Any) -> None:
        for listener in self._listeners:
            listener.checkpoint(cursor)
