"""Django-Q2 entry points. Thin: they call into the runner and the maintenance."""

from __future__ import annotations

from dataclasses import asdict

from jobs import maintenance, runner
from jobs.schedule import bring_next_run_forward


def run_next() -> int:
    """A ticket: run the best runnable job, then the next, while any is due (a few seconds
    at most); returns how many ran."""
    return runner.run_next()


def maintain() -> dict[str, int]:
    """The periodic maintenance pass (rescue, re-ticket, prune)."""
    report = maintenance.run_maintenance()
    bring_next_run_forward()
    return asdict(report)
