"""Cooperative cancellation: the Python analogue of the seed's ``AbortSignal``.

Core services check ``cancel.cancelled`` / call ``cancel.raise_if_cancelled()`` at their
checkpoints and wait with ``pause(cancel, seconds)`` so that a stop cuts a backoff, a
``Retry-After`` or a rate-limit pause short. Who trips the token differs per route: SIGINT
or SIGTERM on the CLI, the job's reporter thread in a worker (it watches the live store,
the row and the cluster's status).

Why a job stops is a type, carried by the token and raised from every checkpoint and wait:

* ``JobCancelled`` — a person asked (the dashboard, ``jobs cancel``, Ctrl+C): the run ends
  ``cancelled``;
* ``WorkerShutdown`` — the cluster running it is stopping: the job goes back to the queue
  without using an attempt;
* ``JobLost`` — the row says this attempt no longer runs (a rescue, a re-claim elsewhere):
  nothing is recorded, the row belongs to someone else.

All three are ``JobStopped``: a service that must not swallow a stop (a provider error
handler, say) lets ``JobStopped`` through.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable


class JobStopped(Exception):
    """Raised at a checkpoint once the job has to stop; the subclass says why."""

    default_message = "Stopped"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class JobCancelled(JobStopped):
    """A person asked the job to stop."""

    default_message = "Cancelled"


class WorkerShutdown(JobStopped):
    """The worker running the job is shutting down; the job runs again elsewhere."""

    default_message = "The worker is shutting down"


class JobLost(JobStopped):
    """This attempt no longer owns the job's row (it was rescued or ran elsewhere)."""

    default_message = "The job is no longer running"


@runtime_checkable
class CancelToken(Protocol):
    @property
    def cancelled(self) -> bool: ...

    def raise_if_cancelled(self) -> None: ...

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True at once if (or as soon as) cancelled."""
        ...


def pause(cancel: CancelToken, seconds: float) -> None:
    """Sleep ``seconds`` unless the token trips first; then raise the reason it carries."""
    if cancel.wait(seconds):
        cancel.raise_if_cancelled()
        raise JobCancelled()  # a token whose wait and raise disagree: stop all the same


class CancelEvent:
    """A token backed by a ``threading.Event``; ``stop()`` may be called from any thread.

    The first reason wins: a shutdown noticed after a person's cancel does not turn the
    cancel into a requeue, nor the other way round (the runner checks the row for a cancel
    request before it requeues).
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reason: JobStopped | None = None

    def cancel(self, reason: str = "Cancelled") -> None:
        """A person's cancel."""
        self.stop(JobCancelled(reason))

    def stop(self, reason: JobStopped) -> None:
        with self._lock:
            if self._reason is None:
                self._reason = reason
        self._event.set()

    @property
    def reason(self) -> JobStopped | None:
        return self._reason

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set() and self._reason is not None:
            # A fresh exception each time: one instance raised from several threads would
            # share (and grow) one traceback.
            raise type(self._reason)(str(self._reason))

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
