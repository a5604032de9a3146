"""How a run in this process shows its progress: a tqdm bar at a terminal
(``TerminalProgress``, also drawing another process's job while the command follows it),
plain log lines for cron (``LogProgress``), and log records printed above the bar."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from jobs.progress import source_names

if TYPE_CHECKING:
    from collections.abc import Iterator

    from jobs.progress import Sources
    from jobs.selectors import ProgressView

logger = logging.getLogger("jobs.cli")


class TerminalProgress:
    """A tqdm bar on stderr; source counts shown after the bar."""

    def __init__(self, *, description: str, file: Any = None) -> None:
        self._bar = tqdm(total=None, desc=description, file=file or sys.stderr, unit="item")
        self._sources: dict[str, int] = {}
        self._following = False

    def start(self, total: int | None, message: str = "") -> None:
        self._bar.reset(total=total)
        self._describe(message)

    def advance(self, n: int = 1, message: str | None = None, source: Sources = None) -> None:
        for name in source_names(source):
            self._sources[name] = self._sources.get(name, 0) + n
        self._describe(message)
        self._bar.update(n)

    def set(self, current: int, message: str | None = None) -> None:
        self._describe(message)
        self._bar.update(current - self._bar.n)

    def finish(self, message: str | None = None) -> None:
        if self._bar.total is not None and self._bar.n < self._bar.total:
            self._bar.update(self._bar.total - self._bar.n)
        self._describe(message)

    def show(self, view: ProgressView) -> None:
        """Draw another process's job (one being followed) as it is now."""
        joined = not self._following
        if joined or view.total != self._bar.total or view.current < self._bar.initial:
            # The rate counts from what this bar saw happen: joining at 270/300 (or a
            # requeued job starting over) is not 270 items done in a second.
            self._bar.reset(total=view.total)
            self._bar.initial = view.current
            self._following = True
        self._sources = dict(view.source_counts)
        self._describe(view.message)
        self._bar.n = view.current
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()

    def _describe(self, message: str | None) -> None:
        postfix = " ".join(f"{k}={v}" for k, v in sorted(self._sources.items()))
        if message:
            postfix = f"{message} {postfix}".strip()
        self._bar.set_postfix_str(postfix[:80], refresh=False)

    def checkpoint(self, cursor: Any) -> None:
        pass  # the tracker beside it keeps checkpoints


class LogProgress:
    """Plain log lines for cron: at start, every 10 % or 30 s, and at the end."""

    def __init__(self, *, job_type: str, interval: float = 30.0) -> None:
        self._job_type = job_type
        self._interval = interval
        self._total: int | None = None
        self._current = 0
        self._logged_at = 0.0
        self._logged_current = 0

    def start(self, total: int | None, message: str = "") -> None:
        self._total, self._current = total, 0
        self._log(message or "started")

    def advance(self, n: int = 1, message: str | None = None, source: Sources = None) -> None:
        self.set(self._current + n, message)

    def set(self, current: int, message: str | None = None) -> None:
        self._current = current
        step = max(1, (self._total or 0) // 10) if self._total else None
        due = time.monotonic() - self._logged_at >= self._interval
        if due or (step is not None and current - self._logged_current >= step):
            self._log(message or "")

    def finish(self, message: str | None = None) -> None:
        self._log(message or "finished")

    def _log(self, message: str) -> None:
        self._logged_at, self._logged_current = time.monotonic(), self._current
        total = f"/{self._total}" if self._total is not None else ""
        logger.info("%s %s%s %s", self._job_type, self._current, total, message)

    def checkpoint(self, cursor: Any) -> None:
        pass  # the tracker beside it keeps checkpoints


@contextlib.contextmanager
def log_above_bar() -> Iterator[None]:
    """While a bar is drawn, log lines go above it (tqdm's ``logging_redirect_tqdm``)
    instead of through it. The console handlers it stands in for keep their filters: the
    secrets filter sits on them (``settings.LOGGING``)."""
    loggers = [logging.getLogger(), logging.getLogger("django-q")]
    before = {logger.name: list(logger.handlers) for logger in loggers}
    with logging_redirect_tqdm(loggers=loggers, tqdm_class=tqdm):
        for logger in loggers:
            filters = [
                f for h in before[logger.name] if h not in logger.handlers for f in h.filters
            ]
            for handler in logger.handlers:
                if handler not in before[logger.name]:
                    for kept in filters:
                        handler.addFilter(kept)
        yield
