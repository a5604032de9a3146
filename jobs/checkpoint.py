"""Checkpoints: how far a run got, so that its next attempt continues instead of starting over.

A core service calls ``progress.checkpoint(cursor)`` when everything up to ``cursor`` (a small
JSON value of the service's choosing) is done and stored. The progress state keeps the
cursor with the count, total and source counts of that moment; the tracker saves it in
``job_runs.checkpoint`` with a row write it makes anyway (its heartbeat, a 10 % step), or at
most every ``CHECKPOINT_EVERY`` seconds when nothing else writes — and the end-state write
(failed, cancelled, requeued, retried later) carries the latest one.

A run that is rescued, requeued after a graceful stop, retried after a transient failure,
or retried / resumed after it failed or was cancelled (a new run, ``retry_of`` the old one)
starts with that checkpoint: the service is called with ``cursor=`` and its progress
resumes at the saved count when the phase the cursor belongs to starts. A successful run's
"run again" starts fresh: there is nothing left to continue. The row's JSON::

    {"cursor": …, "phase": 1, "current": 270, "total": 300, "sources": {"plex": 200},
     "resumed": {"current": 270, "total": 300, "attempt": 2, "of": 12}}

``resumed`` says where this run picked up ("resumed from 270/300 (attempt 2)"); ``of`` is
the run it continues when that is another one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

# A checkpoint that nothing else carries to the row waits at most this long.
CHECKPOINT_EVERY = 5.0


@dataclass(frozen=True)
class Checkpoint:
    """A cursor and the progress it stands for."""

    cursor: Any
    phase: int = 1
    current: int = 0
    total: int | None = None
    sources: dict[str, int] = field(default_factory=dict)
    resumed: dict[str, Any] | None = None
    # Set on a retry's copy: the run whose checkpoint this is.
    of: int | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "cursor": self.cursor,
            "phase": self.phase,
            "current": self.current,
            "total": self.total,
            "sources": self.sources,
        }
        if self.resumed is not None:
            data["resumed"] = self.resumed
        if self.of is not None:
            data["of"] = self.of
        return data

    @classmethod
    def from_json(cls, data: object) -> Checkpoint | None:
        """The checkpoint a row holds; None for none, or for a shape this code cannot read
        (then the run starts from the beginning, which is always correct)."""
        if not isinstance(data, dict) or "cursor" not in data:
            return None
        try:
            sources = {str(k): int(v) for k, v in dict(data.get("sources") or {}).items()}
            total = data.get("total")
            resumed = data.get("resumed")
            of = data.get("of")
            return cls(
                cursor=data["cursor"],
                phase=int(data.get("phase", 1)),
                current=max(0, int(data.get("current", 0))),
                total=None if total is None else int(total),
                sources=sources,
                resumed=resumed if isinstance(resumed, dict) else None,
                of=None if of is None else int(of),
            )
        except (TypeError, ValueError, OverflowError):
            return None

    def resuming(self, *, attempt: int) -> Checkpoint:
        """This checkpoint as the start of attempt ``attempt`` (of this run or, for a
        retry's copy, of the run that continues ``of``)."""
        resumed: dict[str, Any] = {"current": self.current, "total": self.total}
        resumed["attempt"] = attempt
        if self.of is not None:
            resumed["of"] = self.of
        return replace(self, resumed=resumed, of=None)


def carried_over(data: object, *, of: int) -> dict[str, Any] | None:
    """What a retry of the run ``of`` (failed or cancelled) starts with: its checkpoint,
    marked as another run's."""
    checkpoint = Checkpoint.from_json(data)
    if checkpoint is None:
        return None
    return replace(checkpoint, resumed=None, of=of).as_json()


def resumed_text(data: object) -> str:
    """ "resumed from 270/300 (attempt 2)" — or "… of #12" — for a run that continued from a
    checkpoint; "" for one that started from the beginning."""
    checkpoint = Checkpoint.from_json(data)
    if checkpoint is None or checkpoint.resumed is None:
        return ""
    resumed = checkpoint.resumed
    total = resumed.get("total")
    where = f"{resumed.get('current', 0)}/{total if total is not None else '?'}"
    of = resumed.get("of")
    if of is not None:
        return f"resumed from {where} of #{of}"
    return f"resumed from {where} (attempt {resumed.get('attempt', 1)})"
