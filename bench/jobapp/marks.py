"""Marks: one line per event, appended by any process to the file named by ``BENCH_MARKS``.

Workers append (``O_APPEND``, one small write per line, so lines never interleave); the
benchmark process reads the file. Timestamps are ``time.time()``: every process runs on the
same machine and clock.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from jobs.perprocess import PerProcess

ENV = "BENCH_MARKS"
RUN_NEXT = "jobs.tasks.run_next"

_fd = PerProcess(lambda: os.open(os.environ[ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))


def mark(*values: object) -> None:
    """Append one line of space-separated values (nothing when ``BENCH_MARKS`` is unset)."""
    if not os.environ.get(ENV):
        return
    os.write(_fd.get(), (" ".join(str(v) for v in values) + "\n").encode())


def on_task_done(sender: Any = None, func: Any = None, task: Any = None, **kwargs: Any) -> None:
    """Django-Q2 ``post_execute_in_worker``: a raw task, or a ticket that ran a job, is done."""
    if not isinstance(task, dict):
        return
    name = task.get("func")
    mark("ran", name)
    if name == RUN_NEXT and task.get("result") is None:
        return  # a surplus ticket that found nothing to run
    mark("done", name, repr(time.time()))


def on_task_saved(sender: Any = None, task: Any = None, **kwargs: Any) -> None:
    """Django-Q2 ``post_execute`` (in the monitor): the result is saved and acknowledged."""
    if isinstance(task, dict):
        mark("saved", task.get("func"), repr(time.time()))


def reset(path: Path) -> None:
    path.touch()
    os.truncate(path, 0)


def read(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [line.split() for line in text.splitlines() if line.strip()]


def count(path: Path, kind: str) -> int:
    """Lines that start with ``kind`` (cheap enough to poll)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    prefix = kind.encode() + b" "
    return sum(1 for line in data.splitlines() if line.startswith(prefix))
