"""A real Django-Q2 cluster in a subprocess, pointed at the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection

from testkit.waiting import wait_for as wait_for
from tests.orphans import PARENT

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Process:
    """One line of the process table (``/proc/<pid>/stat``)."""

    pid: int
    state: str
    ppid: int
    group: int
    session: int

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X")  # a zombie has ended, only its entry is left


def processes() -> list[Process]:
    """Every process on this machine, as the kernel lists them now."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue  # it ended meanwhile
        # The fields after the parenthesised command name: state, ppid, pgrp, session, …
        state, ppid, group, session = stat.rpartition(")")[2].split()[:4]
        found.append(Process(int(entry.name), state, int(ppid), int(group), int(session)))
    return found


def marker_events(marker: Path) -> list[tuple[str, int, float]]:
    """The ``event pid time`` lines a test job appended to its marker file (any process)."""
    if not marker.exists():
        return []
    rows = []
    for line in marker.read_text(encoding="utf-8").splitlines():
        event, pid, at = line.split()
        rows.append((event, int(pid), float(at)))
    return rows


def max_overlap(jobs: Iterable[Any]) -> int:
    """The most jobs running at one moment, from their rows' start and end times."""
    events = []
    for job in jobs:
        events.append((job.started_at, 1))
        events.append((job.finished_at, -1))
    running = peak = 0
    # An end and a start at the same instant: the end counts first.
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        running += delta
        peak = max(peak, running)
    return peak


def enqueue_concurrently(job_type: str, params: dict[str, Any], *, count: int) -> list[Any]:
    """``count`` threads enqueue the same job at the same moment; the jobs they got."""
    from django.db import connections

    from jobs import services

    results: list[Any] = []
    barrier = threading.Barrier(count)

    def enqueue() -> None:
        barrier.wait()
        try:
            results.append(services.enqueue(job_type=job_type, params=params))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=enqueue) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_database_url() -> str:
    """The URL of the database the tests use right now (the test DB, not the configured one)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = s["HOST"] or "127.0.0.1"
    port = s["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a manage.py subprocess that uses the test database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": test_database_url(),
        **extra,
    }


def manage(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[str]:
    """Start ``manage.py ARGS`` on the test database; text pipes for stdout and stderr.

    ``env`` adds variables to the subprocess's environment (a fake provider's URL, say).
    """
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=subprocess_env(**(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


class Cluster:
    """``manage.py qcluster`` with the test settings; ``stop()`` stops it as a service would."""

    def __init__(self, *, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> Cluster:
        """Start it; with ``wait`` (the default), return once its workers are up."""
        # It dies with this process, should this one be killed (tests/orphans.py).
        env = subprocess_env(**{PARENT: str(os.getpid()), **self.extra_env})
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            self.wait_started()
        return self

    def wait_started(self) -> None:
        wait_for(self.worker_pids, timeout=30, what="the cluster to report its workers")

    def worker_pids(self) -> list[int]:
        from django_q.status import Stat

        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(
                f"qcluster exited with {self.proc.returncode}; see {self.log_path}"
            )
        for stat in Stat.get_all():
            # A stat's pid is its cluster's main process.
            if stat.pid == self.proc.pid and stat.workers and stat.status in ("Idle", "Working"):
                return list(stat.workers)
        return []

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # Like a service manager: signal the main process only. SIGTERM to the whole group
        # kills Django-Q2's sentinel outright (it keeps SIGTERM's default action) and the
        # main process then waits for it forever.
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        finally:
            self._log.close()
        # Nothing of this cluster may outlive it and steal the next test's tickets.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL every process of the cluster (a crash, an OOM kill of the container)."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")
