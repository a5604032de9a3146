"""What every benchmark shares: result tables, statistics, clusters, fakes in a process.

A benchmark module exposes ``run(ctx: Context) -> list[Table]``. Each ``Row`` holds a figure,
the anchor measured in the same run, their ratio, the goal and whether it was met; ``bench.run``
prints the tables as they come and writes them to ``bench/results/latest.md``.

Django is set up (``bench.settings``) before any benchmark runs; this module imports Django
only inside functions so that ``bench.run``'s parent process, which prepares the databases,
never configures it.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from testkit.waiting import wait_for as wait_for

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"


# -- results -------------------------------------------------------------------------------------
@dataclass
class Row:
    """One figure against its anchor.

    ``ratio`` is whatever the goal is stated in (figure ÷ anchor by default); ``met`` is None
    when the row only reports (no goal) or could not be measured.
    """

    figure: str
    value: float | None
    unit: str
    anchor: str = ""
    anchor_value: float | None = None
    anchor_unit: str = ""
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""
    # False where a ratio means nothing (a growth in MB next to a growth near zero).
    auto_ratio: bool = True
    # Shown instead of the ratio where the goal compares otherwise ("+7.8 ms" for a goal of
    # "≤ raw + 20 ms").
    versus: str = ""

    def __post_init__(self) -> None:
        if self.ratio is None and self.auto_ratio and self.value is not None and self.anchor_value:
            self.ratio = self.value / self.anchor_value


@dataclass
class Table:
    bench: str
    title: str
    mode: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    available: bool = True
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        rows = [Row(**row) for row in data.pop("rows")]
        return cls(rows=rows, **data)


def not_available(bench: str, title: str, mode: str, reason: str) -> Table:
    return Table(bench=bench, title=title, mode=mode, available=False, notes=[reason])


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == "ms":
        text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
    elif unit in ("s", "MB"):
        text = f"{value:.2f}"
    elif abs(value) >= 100 or float(value).is_integer():
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def _met(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "—"}[met]


def row_cells(row: Row) -> list[str]:
    anchor = f"{fmt(row.anchor_value, row.anchor_unit or row.unit)} ({row.anchor})"
    if row.anchor_value is None:
        anchor = row.anchor or "—"
    return [
        row.figure,
        fmt(row.value, row.unit),
        anchor,
        row.versus or ("—" if row.ratio is None else f"{row.ratio:.2f}"),
        row.goal or "—",
        _met(row.met),
    ]


HEADERS = ["figure", "value", "anchor (same run)", "ratio (or vs anchor)", "goal", "met"]


def table_text(table: Table) -> str:
    head = f"== {table.bench} [{table.mode}] {table.title}"
    if table.seconds:
        head += f"  ({table.seconds:.0f} s)"
    lines = [head]
    if not table.available:
        lines.append("   not available: " + "; ".join(table.notes))
        return "\n".join(lines)
    cells = [HEADERS, *(row_cells(row) for row in table.rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]
    for n, line_cells in enumerate(cells):
        lines.append(
            "   " + " | ".join(c.ljust(w) for c, w in zip(line_cells, widths, strict=True))
        )
        if n == 0:
            lines.append("   " + "-+-".join("-" * w for w in widths))
    lines.extend(f"   * {row.figure}: {row.note}" for row in table.rows if row.note)
    lines.extend(f"   {note}" for note in table.notes)
    return "\n".join(lines)


def table_markdown(table: Table, heading: str = "") -> str:
    lines = [f"### {heading or table.bench} — {table.mode}", ""]
    if table.available:
        took = f" ({table.seconds:.0f} s)" if table.seconds else ""
        lines += [f"{table.title}{took}.", ""]
    if not table.available:
        lines.append("Not available: " + "; ".join(table.notes))
        return "\n".join(lines) + "\n"
    lines.append("| " + " | ".join(HEADERS) + " |")
    lines.append("|" + "---|" * len(HEADERS))
    for row in table.rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in row_cells(row)) + " |")
    lines.append("")
    lines.extend(f"- {row.figure}: {row.note}" for row in table.rows if row.note)
    lines.extend(f"- {note}" for note in table.notes)
    return "\n".join(lines) + "\n"


# -- statistics ----------------------------------------------------------------------------------
def percentile(values: list[float], pct: float) -> float:
    """Nearest rank: the smallest value with at least ``pct`` % of values at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def p50(values: list[float]) -> float:
    return percentile(values, 50)


def p95(values: list[float]) -> float:
    return percentile(values, 95)


def p95_row(figure: str, times: list[float], floor: list[float], *, goal_ms: float | None) -> Row:
    """A request-time row: the p95 of ``times`` (ms) against the p95 of ``floor`` (``GET
    /health`` in the same run), with a goal of ``< goal_ms`` unless it is None."""
    return Row(
        figure=figure,
        value=p95(times),
        unit="ms",
        anchor="GET /health p95",
        anchor_value=p95(floor),
        goal=f"< {goal_ms:.0f} ms" if goal_ms is not None else "",
        met=p95(times) < goal_ms if goal_ms is not None else None,
        note=f"p50 {p50(times):.1f} ms, {len(times)} requests",
    )


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# -- the run's context -----------------------------------------------------------------------------
def scale() -> float:
    """``BENCH_SCALE`` (default 1) shrinks every size for a quick trial run."""
    return float(os.environ.get("BENCH_SCALE", "1"))


def sized(n: int, minimum: int = 1) -> int:
    return max(minimum, round(n * scale()))


class Cluster:
    """``manage.py qcluster`` under the bench settings, like ``tests.cluster.Cluster``: its own
    session, stopped with SIGTERM to its main process only (docs/design.md §6)."""

    def __init__(self, *, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Cluster:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env={**os.environ, **self.extra_env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.worker_pids, timeout=60, what="the cluster to report its workers")
        return self

    def worker_pids(self) -> list[int]:
        from django_q.status import Stat

        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"qcluster exited with {self.proc.returncode}; see {self.log_path}")
        for stat in Stat.get_all():
            if stat.pid == self.proc.pid and stat.workers and stat.status in ("Idle", "Working"):
                return list(stat.workers)
        return []

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()
        self.proc = None


@dataclass
class Context:
    mode: str
    data_dir: Path
    marks: Path
    log_dir: Path
    _cluster: Cluster | None = None
    _clusters: int = 0

    def cluster(self) -> Cluster:
        """The mode's shared cluster (production settings, 2 workers), started on first use."""
        if self._cluster is None:
            self._cluster = self.new_cluster("shared")
        return self._cluster

    def new_cluster(self, name: str, **env: str) -> Cluster:
        self._clusters += 1
        path = self.log_dir / f"{self._clusters:02d}-{name}.log"
        return Cluster(log_path=path, env=env).start()

    def stop_cluster(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None


def settle_queue() -> None:
    """Forget queued jobs and waiting tickets (benchmarks that run without a cluster)."""
    from jobs import tickets
    from jobs.models import JobRun, JobStatus

    JobRun.objects.filter(status=JobStatus.QUEUED).delete()
    tickets.broker().purge_queue()


def wait_idle(timeout: float = 120.0) -> None:
    """Until no job is queued or running."""
    from jobs.models import ACTIVE_STATUSES, JobRun

    wait_for(
        lambda: not JobRun.objects.filter(status__in=ACTIVE_STATUSES).exists(),
        timeout=timeout,
        interval=0.05,
        what="the queue to drain",
    )


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


# -- fake providers in their own process -----------------------------------------------------------
@dataclass(frozen=True)
class FakeSpec:
    artists: int
    seed: int
    now_iso: str
    plays: int | None = None
    latency: float = 0.0
    demo: bool = True  # Plex, Last.fm and Spotify; else Plex only


def _serve_fakes(spec: FakeSpec, conn: Any) -> None:
    """The fakes' process: build the library, serve, answer counter requests until "stop"."""
    from datetime import datetime

    from enrichment.demo import provider_settings
    from enrichment.fakes import (
        FakePlexServer,
        RateLimit,
        generate_library,
        start_demo_services,
    )

    library = generate_library(
        artists=spec.artists,
        seed=spec.seed,
        now=datetime.fromisoformat(spec.now_iso),
        plays=spec.plays,
    )
    servers: dict[str, Any] = {}
    info: dict[str, Any] = {"tracks": len(library.tracks), "artists": len(library.artists)}
    if spec.demo:
        services = start_demo_services(library, latency=spec.latency)
        servers = {"plex": services.plex, "lastfm": services.lastfm, "spotify": services.spotify}
        info["settings"] = provider_settings(services)
    else:
        plex = FakePlexServer(library, latency=spec.latency)
        plex.start()
        servers = {"plex": plex}
        info["settings"] = {"PLAYLISTER_PLEX_URL": plex.url, "PLAYLISTER_PLEX_TOKEN": plex.token}
    conn.send(info)
    try:
        while True:
            command, args = conn.recv()
            if command == "stop":
                break
            server = servers[args[0]]
            if command == "count":
                conn.send(server.request_count(*args[1:]))
            elif command == "by_status":
                conn.send(dict(server.stats().by_status))
            elif command == "arrivals":
                conn.send([r.at for r in server.records(*args[1:])])
            elif command == "windows_over":
                conn.send((server.windows_over(args[1]), server.max_in_window()))
            elif command == "by_endpoint":
                conn.send(dict(server.stats().by_endpoint))
            elif command == "reset":
                server.reset_counters()
                conn.send(True)
            elif command == "rate_limit":
                limit = args[1]
                server.set_rate_limit(RateLimit(max_requests=limit) if limit else None)
                conn.send(True)
    finally:
        for server in servers.values():
            server.stop()
        conn.send("stopped")


class FakeProviders:
    """Fake Plex (and Last.fm, Spotify) in a forked process, so that the servers' work does
    not compete for this process's GIL the way a real remote server never would."""

    def __init__(self, spec: FakeSpec) -> None:
        self.spec = spec
        self.settings: dict[str, str] = {}
        self.info: dict[str, Any] = {}

    def __enter__(self) -> FakeProviders:
        from django.db import connections

        connections.close_all()  # the child must not share this process's connections
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_fakes, args=(self.spec, child), daemon=True)
        self._proc.start()
        if not self._conn.poll(300):
            raise TimeoutError("the fake providers did not start")
        self.info = self._conn.recv()
        self.settings = self.info["settings"]
        return self

    def _ask(self, command: str, *args: Any) -> Any:
        self._conn.send((command, args))
        return self._conn.recv()

    def count(self, server: str = "plex", endpoint: str | None = None) -> int:
        return int(self._ask("count", server, *([endpoint] if endpoint else [])))

    def by_status(self, server: str = "plex") -> dict[int, int]:
        return dict(self._ask("by_status", server))

    def arrivals(self, server: str = "plex", endpoint: str | None = None) -> list[float]:
        """Arrival times (the fake's monotonic clock) of every request, in order."""
        return list(self._ask("arrivals", server, *([endpoint] if endpoint else [])))

    def windows_over(self, server: str, limit: int) -> tuple[int, int]:
        """1-second windows (one from each arrival) in which more than ``limit`` arrived,
        and the most requests any 1-second window held."""
        over, most = self._ask("windows_over", server, limit)
        return int(over), int(most)

    def by_endpoint(self, server: str = "plex") -> dict[str, int]:
        return dict(self._ask("by_endpoint", server))

    def reset(self, server: str = "plex") -> None:
        self._ask("reset", server)

    def set_rate_limit(self, server: str, per_second: int | None) -> None:
        self._ask("rate_limit", server, per_second)

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(Exception):
            self._ask("stop")
        self._proc.join(30)
        if self._proc.is_alive():
            self._proc.kill()
