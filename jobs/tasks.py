"""Django-Q2 entry points. Thin: they call into the runner."""

from __future__ import annotations

from jobs import runner


def run_next() -> int | None:
    """A ticket: claim the best runnable job, run it, return its id (None: nothing to do)."""
    return runner.run_next()
