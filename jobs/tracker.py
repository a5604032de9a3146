"""The tracker a job reports through when it has a ``job_runs`` row (worker and CLI routes).

The service's threads only touch memory (``ProgressState``): no I/O on the hot path. One
reporter thread per process (``Reporter``) does all the talking for the trackers running
in it — a thread started per job cost a worker a fifth of its time on short jobs — and a
job shorter than one tick never talks at all:

* publishes live progress to the live store at most every ``live_interval`` (~250 ms),
  and only when something changed;
* writes the row when a phase starts, each time another 10 % is done, and at least every
  ``heartbeat_interval`` (30 s) — that write is also the job's heartbeat; the final write
  belongs to the runner, which records the end state with the last progress;
* carries the service's latest checkpoint (``jobs.checkpoint``) with those writes, and
  writes the row for it alone at most every ``CHECKPOINT_EVERY`` (5 s);
* watches for a cancel request: the live-store flag every tick, the row every second (the
  flag may be lost with a cache, the row may not), and trips the job's token.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connections
from django.utils import timezone

from jobs import live
from jobs.cancel import JobLost, WorkerShutdown
from jobs.checkpoint import CHECKPOINT_EVERY
from jobs.models import owned_attempt
from jobs.perprocess import PerProcess
from jobs.progress import ProgressState, Snapshot

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from jobs.cancel import CancelEvent
    from jobs.joblog import LogBuffer

logger = logging.getLogger(__name__)

MESSAGE_MAX = 500


class JobTracker(ProgressState):
    """``Progress`` for the job ``job_id``; use as a context manager around the run."""

    def __init__(
        self,
        job_id: int,
        *,
        token: CancelEvent,
        attempt: int = 1,
        started_at: datetime | None = None,
        shutdown_check: Callable[[], bool] | None = None,
        live_interval: float = 0.25,
        heartbeat_interval: float | None = None,
        cancel_poll_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock=clock)
        self.job_id = job_id
        self.attempt = attempt
        # Identifies this run's live cancel flag: a flag left for an earlier run with the
        # same id (it ended before the flag landed; ids reused after a reset) is not ours.
        self.started_at = started_at
        self.token = token
        self.shutdown_check = shutdown_check
        self.live_interval = live_interval
        self.heartbeat_interval = (
            heartbeat_interval
            if heartbeat_interval is not None
            else float(settings.PLAYLISTER_JOB_HEARTBEAT)
        )
        self.cancel_poll_interval = cancel_poll_interval
        self.row_writes = 0
        self._clock = clock
        self._tick_lock = threading.Lock()
        self._active = False
        self.tick_interval = 0.25
        self.next_tick = float("inf")
        self._published_version = -1
        self._last_publish = float("-inf")
        self._row_phase = 0
        self._row_current = 0
        self._row_checkpoint = 0
        self._last_row_write = clock()
        self._last_cancel_poll = float("-inf")
        # The job's own log (issue 15): its pending lines are stored on this thread's ticks.
        self.log: LogBuffer | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> JobTracker:
        self.tick_interval = min(self.live_interval, 0.25)
        # Real time, whatever the clock: the reporter sleeps in real time.
        self.next_tick = time.monotonic() + self.tick_interval
        self._active = True
        reporter().add(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Only stops reporting: the runner writes the end state, then clears the live store,
        # so a reader never falls back to a row that is older than what it last saw.
        reporter().remove(self)

    def tick_if_active(self) -> None:
        """One reporter tick, unless the job has ended (then never again)."""
        with self._tick_lock:
            if not self._active:
                return
            try:
                self._tick()
            except Exception:
                # A hiccup of the database or cache must not kill the reporter: the next
                # tick tries again, and the runner writes the end state regardless.
                logger.warning("job %s: progress report failed", self.job_id, exc_info=True)
                connections.close_all()

    def deactivate(self) -> None:
        # Waits for a tick in progress: once this returns, the reporter never writes again.
        with self._tick_lock:
            self._active = False

    def _tick(self) -> None:
        now = self._clock()
        snap = self.snapshot()
        if snap.version != self._published_version and now - self._last_publish >= (
            self.live_interval
        ):
            self.publish(snap)
            self._last_publish = now
        if self._row_due(snap, now):
            self.write_row(snap)
        self._poll_cancel(now)
        if self.log is not None:  # last: a failed log write must not skip the cancel poll
            self.log.flush_due()

    def _row_due(self, snap: Snapshot, now: float) -> bool:
        if self._phase != self._row_phase:
            return True
        if now - self._last_row_write >= self.heartbeat_interval:
            return True
        if (
            self.last_checkpoint()[1] != self._row_checkpoint
            and now - self._last_row_write >= CHECKPOINT_EVERY
        ):
            return True
        if snap.total:
            # The runner's final write records 100 %; writing it here too would be wasted.
            step = max(1, snap.total // 10)
            return snap.current < snap.total and snap.current - self._row_current >= step
        return False

    @property
    def published(self) -> bool:
        """Has this tracker put anything in the live store?"""
        return self._published_version != -1

    def publish(self, snap: Snapshot | None = None) -> None:
        snap = snap or self.snapshot()
        live.publish_progress(
            self.job_id,
            live.LiveProgress(
                current=snap.current,
                total=snap.total,
                message=snap.message,
                eta_seconds=snap.eta_seconds,
                source_counts=snap.source_counts,
                updated_at=time.time(),
            ),
        )
        self._published_version = snap.version

    def write_row(self, snap: Snapshot | None = None) -> None:
        snap = snap or self.snapshot()
        phase = self._phase
        checkpoint, checkpoint_version = self.last_checkpoint()
        # The latest checkpoint rides on this write (the heartbeat): never a write of its own.
        saved = (
            {"checkpoint": checkpoint.as_json()}
            if checkpoint is not None and checkpoint_version != self._row_checkpoint
            else {}
        )
        updated = owned_attempt(self.job_id, self.attempt).update(
            **saved,
            progress_current=snap.current,
            progress_total=snap.total,
            progress_message=snap.message[:MESSAGE_MAX],
            source_counts=snap.source_counts,
            heartbeat_at=timezone.now(),
        )
        self.row_writes += 1
        self._row_checkpoint = checkpoint_version
        self._row_phase = phase
        self._row_current = snap.current
        self._last_row_write = self._clock()
        if updated == 0:
            # Someone else decided this run's fate (a rescue, an operator): stop working on it.
            self.token.stop(JobLost())

    def _poll_cancel(self, now: float) -> None:
        if self.token.cancelled:
            return
        if live.cancel_requested(self.job_id, self.started_at):
            self.token.cancel()
            return
        if now - self._last_cancel_poll < self.cancel_poll_interval:
            return
        self._last_cancel_poll = now
        row = owned_attempt(self.job_id, self.attempt).values_list("cancel_requested_at").first()
        if row is None:
            self.token.stop(JobLost())
        elif row[0] is not None:
            self.token.cancel()
        elif self.shutdown_check is not None and self.shutdown_check():
            self.token.stop(WorkerShutdown())


class Reporter:
    """The reporter thread of this process: ticks each active tracker every
    ``tracker.tick_interval`` seconds, its first tick one interval after the job started."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._trackers: list[JobTracker] = []
        self._thread: threading.Thread | None = None

    def add(self, tracker: JobTracker) -> None:
        with self._cond:
            self._trackers.append(tracker)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="job-reporter", daemon=True)
                self._thread.start()
            self._cond.notify()

    def remove(self, tracker: JobTracker) -> None:
        tracker.deactivate()
        with self._cond:
            if tracker in self._trackers:
                self._trackers.remove(tracker)

    def _due(self) -> tuple[list[JobTracker], float | None]:
        """Trackers due for a tick now, and how long until the next one is (None: idle)."""
        now = time.monotonic()
        due = [t for t in self._trackers if t.next_tick <= now]
        later = [t.next_tick - now for t in self._trackers if t.next_tick > now]
        return due, min(later, default=None)

    def _run(self) -> None:
        while True:
            with self._cond:
                due, wait = self._due()
                while not due:
                    if not self._trackers:
                        # Between jobs: hold no connection while idle (a job shorter than a
                        # tick never opened one, so short jobs pay nothing for this).
                        connections.close_all()
                    self._cond.wait(wait)
                    due, wait = self._due()
                for tracker in due:
                    tracker.next_tick = time.monotonic() + tracker.tick_interval
            for tracker in due:
                tracker.tick_if_active()


_reporter = PerProcess(Reporter)


def reporter() -> Reporter:
    """This process's reporter (a forked worker gets its own: threads do not survive fork)."""
    return _reporter.get()
