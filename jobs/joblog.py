"""A job's own log: the records its code emits, kept with the run.

* **What**: every record that reaches the root logger from a thread working for a job
  (``jobs.context``: the job's worker thread and the threads it starts through
  ``ContextThreadPoolExecutor``). ``JobLogHandler`` sits beside the console handler, so cron
  and cluster output keep every line too. Only the service's records and the runner's
  warnings and tracebacks about the outcome join it (not "started"/"ended": a job that logs
  nothing costs nothing).
* **Memory**: the emitting thread appends to the attempt's ``LogBuffer`` (no I/O); it holds
  at most the last ``MAX_LINES`` lines / ``MAX_BYTES``, longer lines are cut.
* **Storage**: ``job_log_lines``, written in batches — by the process's reporter thread at
  most every ``FLUSH_EVERY`` seconds while the job runs (the detail page shows them live),
  and by the runner in the transaction that records the end. Lines are redacted
  (``jobs.redact``) on the way. A run keeps its last ``MAX_LINES`` lines / ``MAX_BYTES``:
  once more were written, each write trims the oldest (one DELETE).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction

from jobs.context import current
from jobs.models import JobLogLine
from jobs.redact import Redactor

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_LINES = 500
MAX_BYTES = 64 * 1024
# One record (a long traceback, a dumped payload) must not crowd out the rest.
LINE_MAX = 4000
FLUSH_EVERY = 1.0
LOGGER_MAX = 100
MARKER_ROOM = 200

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Line:
    created: float  # epoch seconds, as in ``LogRecord.created``
    level: int
    logger: str
    message: str


def _cut(text: str) -> str:
    """At most ``LINE_MAX`` characters: the head and, of a traceback, the tail that names
    the error."""
    if len(text) <= LINE_MAX:
        return text
    head = LINE_MAX // 4
    return f"{text[:head]}\n…\n{text[-(LINE_MAX - head - 3) :]}"


class LogBuffer:
    """The lines of one attempt that are not stored yet (thread-safe, bounded)."""

    def __init__(
        self,
        job_id: int,
        *,
        attempt: int = 1,
        flush_every: float = FLUSH_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.flush_every = flush_every
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: deque[Line] = deque()
        self._pending_bytes = 0
        self._dropped = 0
        self._last_flush = clock()
        # What this buffer stored; past the bounds every write trims the run's log.
        self.stored_lines = 0
        self.stored_bytes = 0

    def append(self, line: Line) -> None:
        with self._lock:
            self._pending.append(line)
            self._pending_bytes += len(line.message)
            self._bound()

    def _bound(self) -> None:
        # Room for the line that says how many were dropped.
        while len(self._pending) > MAX_LINES - 1 or self._pending_bytes > MAX_BYTES - MARKER_ROOM:
            dropped = self._pending.popleft()
            self._pending_bytes -= len(dropped.message)
            self._dropped += 1

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush_due(self) -> None:
        """The reporter's tick: store what is pending if ``flush_every`` has passed."""
        if self._pending and self._clock() - self._last_flush >= self.flush_every:
            self.flush()

    def flush(self, *, final: bool = False) -> int:
        """Store the pending lines (redacted) in one INSERT; the number stored.

        ``final``: the attempt's last write. A later attempt of a run trims the log then,
        since it does not know what the earlier ones left.
        """
        with self._lock:
            batch, dropped = list(self._pending), self._dropped
            self._pending.clear()
            self._pending_bytes = 0
            self._dropped = 0
        self._last_flush = self._clock()
        if not batch and not dropped:
            if final and self.attempt > 1 and self.stored_lines:
                trim(self.job_id)
            return 0
        redact = Redactor()
        rows = []
        if dropped:
            rows.append(
                JobLogLine(
                    job_id=self.job_id,
                    attempt=self.attempt,
                    created=datetime.fromtimestamp(batch[0].created if batch else time.time(), UTC),
                    level=logging.WARNING,
                    logger=__name__,
                    message=f"… {dropped} earlier line(s) not kept: a run keeps its last "
                    f"{MAX_LINES} lines / {MAX_BYTES // 1024} KB",
                )
            )
        rows.extend(
            JobLogLine(
                job_id=self.job_id,
                attempt=self.attempt,
                created=datetime.fromtimestamp(line.created, UTC),
                level=line.level,
                logger=line.logger[:LOGGER_MAX],
                message=redact(line.message),
            )
            for line in batch
        )
        try:
            JobLogLine.objects.bulk_create(rows)
        except Exception:
            # Keep them for the next try (the database may be back by then).
            with self._lock:
                self._pending.extendleft(reversed(batch))
                self._pending_bytes += sum(len(line.message) for line in batch)
                self._dropped += dropped
                self._bound()
            raise
        self.stored_lines += len(rows)
        self.stored_bytes += sum(len(row.message) for row in rows)
        if (
            self.stored_lines > MAX_LINES
            or self.stored_bytes > MAX_BYTES
            or (final and self.attempt > 1)
        ):
            trim(self.job_id)
        return len(rows)


def store_final(buffer: LogBuffer) -> None:
    """The attempt's last write, inside the transaction that records its end (so the page
    that sees the end sees every line). A savepoint: a failure here costs the lines, never
    the end state. A job that logged nothing costs no statement."""
    if not buffer.pending and not (buffer.attempt > 1 and buffer.stored_lines):
        return
    try:
        with transaction.atomic():
            buffer.flush(final=True)
    except Exception:
        logger.warning("job %s: could not store its log", buffer.job_id, exc_info=True)


# Deletes the lines of a run older than the newest MAX_LINES that fit in MAX_BYTES. Window
# functions walk the run's lines newest first along the (job_id, id) index.
_TRIM_SQL = """
DELETE FROM job_log_lines WHERE job_id = %s AND id < (
    SELECT COALESCE(MIN(id), 0) FROM (
        SELECT id,
               ROW_NUMBER() OVER (ORDER BY id DESC) AS n,
               SUM(LENGTH(message)) OVER (ORDER BY id DESC ROWS UNBOUNDED PRECEDING) AS size
        FROM job_log_lines WHERE job_id = %s
    ) AS newest WHERE n <= %s AND size <= %s
)
"""


def trim(job_id: int) -> int:
    """Keep the run's last ``MAX_LINES`` lines / ``MAX_BYTES``; how many lines went."""
    with connection.cursor() as cursor:
        cursor.execute(_TRIM_SQL, [job_id, job_id, MAX_LINES, MAX_BYTES])
        return int(cursor.rowcount)


_formatter = logging.Formatter()


class JobLogHandler(logging.Handler):
    """Hands records from a job's threads to that job's ``LogBuffer``; ignores the rest."""

    def emit(self, record: logging.LogRecord) -> None:
        context = current()
        if context is None or record.levelno < context.min_level:
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message = f"{message}\n{_formatter.formatException(record.exc_info)}"
            elif record.exc_text:
                message = f"{message}\n{record.exc_text}"
            if record.stack_info:
                message = f"{message}\n{record.stack_info}"
        except Exception:
            self.handleError(record)
            return
        context.log.append(Line(record.created, record.levelno, record.name, _cut(message)))


def install() -> None:
    """Add the handler to the root logger (once per process), beside the configured ones."""
    root = logging.getLogger()
    if not any(isinstance(h, JobLogHandler) for h in root.handlers):
        root.addHandler(JobLogHandler())


def lines_of(job_id: int, *, limit: int = MAX_LINES) -> list[JobLogLine]:
    """The stored lines of a run, oldest first (at most ``limit``, the newest)."""
    newest = list(JobLogLine.objects.filter(job_id=job_id).order_by("-id")[:limit])
    newest.reverse()
    return newest
