"""Run the benchmarks: ``python -m bench.run [NAME ...] [--mode embedded|scaled|both]``.

The parent process prepares each mode — a throwaway data directory (SQLite file, file caches,
rate-limit files) and, for the scaled mode, a PostgreSQL database of its own plus a unique
Redis namespace — then runs the benchmarks of that mode in a child process (Django settings
are per process), and removes it all afterwards. Nothing touches ``var/`` or the test
database. A full run writes ``bench/results/latest.md``; a selection writes
``bench/results/partial.md.tmp`` unless ``--output`` says otherwise.

Environment: ``BENCH_POSTGRES_URL`` (a PostgreSQL server to create the bench database on,
default ``postgres://postgres@127.0.0.1:5432/postgres``), ``BENCH_REDIS_URL`` (default
``redis://127.0.0.1:6379/15``, a database the test suite does not flush), ``BENCH_SCALE``
(shrinks every size, for trial runs), ``BENCH_KEEP_LOGS`` (a directory to copy the
clusters' logs to).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    BASE_DIR,
    RESULTS_DIR,
    Context,
    Table,
    not_available,
    row_cells,
    table_markdown,
    table_text,
)

# name → (module, title, modes). "both": each mode; "once": the embedded mode only (the
# figure does not depend on the database or the broker).
BENCHES: dict[str, tuple[str, str, str]] = {
    "throughput": ("bench.bench_throughput", "1. Tracked vs raw no-op throughput", "both"),
    "latency": ("bench.bench_latency", "2. Enqueue → start latency", "both"),
    "cancel": ("bench.bench_cancel", "4. Cancel → cancelled", "both"),
    "progress": ("bench.bench_progress", "5. Live progress staleness, row writes", "both"),
    "api": ("bench.bench_api", "3. POST /actions/<type>/start", "both"),
    "warm": ("bench.bench_warm", "6. cache-warm throughput", "both"),
    "plex_scan": ("bench.bench_plex_scan", "7. Plex requests per artist", "once"),
    "playlist": ("bench.bench_playlist", "Issues 5, 14: daily mix from 100k tracks", "once"),
    "memory": ("bench.bench_memory", "9. Worker memory growth", "both"),
    "dashboard": ("bench.bench_dashboard", "8. Dashboard and history at scale", "both"),
    "metrics": ("bench.bench_metrics", "Issue 15: GET /metrics at scale", "both"),
    "playlist_pages": ("bench.bench_playlist_pages", "Issue 14: playlist pages", "both"),
    "resume": ("bench.bench_resume", "Issue 15: cache-warm resumed after a stop at 90 %", "both"),
}
# Benchmarks that need the shared cluster run first; it is stopped before the others.
SHARED_CLUSTER = ("throughput", "latency", "cancel", "progress")
MODES = ("embedded", "scaled")

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
# A Redis database of its own: the scaled test suite FLUSHes database 0 (a broker-loss test),
# which would wipe a benchmark's queue if both ran at once.
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


# -- parent: prepare a mode, run its child, clean up ---------------------------------------------
@dataclass
class Prepared:
    mode: str
    data_dir: Path
    env: dict[str, str]
    database: str = ""
    problem: str = ""


def _postgres_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)


def _redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def prepare(mode: str, run_id: str) -> Prepared:
    data_dir = Path(tempfile.mkdtemp(prefix=f"playlister-bench-{mode}-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PLAYLISTER_DATA_DIR": str(data_dir),
        "PLAYLISTER_CLUSTER_NAME": f"bench-{run_id}-{mode}",
        "PLAYLISTER_CACHE_PREFIX": f"bench-{run_id}-{mode}",
        "BENCH_MARKS": str(data_dir / "marks.log"),
        "PYTHONUNBUFFERED": "1",
    }
    # Explicit values win over a developer's .env file (django-environ only fills gaps).
    if mode == "embedded":
        env["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
        env["REDIS_URL"] = ""
        return Prepared(mode, data_dir, env)
    prepared = Prepared(mode, data_dir, env, database=f"playlister_bench_{run_id}")
    try:
        import psycopg
        import redis

        with psycopg.connect(_postgres_url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{prepared.database}"')
        redis.Redis.from_url(_redis_url(), socket_connect_timeout=5).ping()
    except Exception as exc:
        prepared.problem = f"PostgreSQL or Redis not reachable ({type(exc).__name__}: {exc})"
        return prepared
    env["DATABASE_URL"] = _with_database(_postgres_url(), prepared.database)
    env["REDIS_URL"] = _redis_url()
    return prepared


def teardown(prepared: Prepared) -> None:
    if prepared.mode == "scaled" and not prepared.problem:
        with contextlib.suppress(Exception):
            import psycopg

            with psycopg.connect(_postgres_url(), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{prepared.database}" WITH (FORCE)')
        with contextlib.suppress(Exception):
            import redis

            client = redis.Redis.from_url(_redis_url())
            prefix = prepared.env["PLAYLISTER_CACHE_PREFIX"]
            for key in client.scan_iter(match=f"*{prefix}*", count=1000):
                client.delete(key)
    shutil.rmtree(prepared.data_dir, ignore_errors=True)


def run_mode(mode: str, names: list[str], run_id: str) -> tuple[list[Table], list[str]]:
    """Run ``names`` in a child process for ``mode``; its tables and the command used."""
    prepared = prepare(mode, run_id)
    command = [sys.executable, "-m", "bench.run", "--child", mode, *names]
    shown = f"python -m bench.run --child {mode} {' '.join(names)}"
    try:
        if prepared.problem:
            tables = [
                not_available(name, BENCHES[name][1], mode, prepared.problem) for name in names
            ]
            for table in tables:
                print(f"== {table.bench} [{mode}] not available: {prepared.problem}", flush=True)
            return tables, [shown]
        out = prepared.data_dir / "tables.json"
        result = subprocess.run(
            [*command, "--out", str(out)], cwd=BASE_DIR, env=prepared.env, check=False
        )
        tables = []
        if out.exists():
            tables = [Table.from_dict(t) for t in json.loads(out.read_text(encoding="utf-8"))]
        done = {t.bench for t in tables}
        for name in names:
            if name not in done:
                reason = f"the benchmark process ended with exit code {result.returncode}"
                tables.append(not_available(name, BENCHES[name][1], mode, reason))
        return tables, [shown]
    finally:
        teardown(prepared)


# Issue 17: the whole ``make bench`` in 10 minutes.
WHOLE_RUN_GOAL_MIN = 10


def _load() -> str:
    """The 1, 5 and 15 minute load averages at the end (other work on the machine shows)."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min, at the end)"


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {
        "Python": platform.python_version(),
        "Django": version("django"),
        "Django-Q2": version("django-q2"),
    }


def _goal_summary(tables: list[Table]) -> list[str]:
    goals = [row for t in tables if t.available for row in t.rows if row.met is not None]
    met = sum(1 for row in goals if row.met)
    missing = sum(1 for t in tables if not t.available)
    lines = [
        f"{met} of {len(goals)} goal figures met"
        + (f"; {missing} table(s) not available" if missing else "")
        + ".",
        "",
        "| benchmark | mode | figure | value | ratio (or vs anchor) | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for table in tables:
        if not table.available:
            lines.append(f"| {table.bench} | {table.mode} | not available | | | | |")
            continue
        for row in table.rows:
            if row.goal and row.goal != "—":
                cells = row_cells(row)
                lines.append(
                    f"| {table.bench} | {table.mode} | {cells[0]} | {cells[1]} | {cells[3]} | "
                    f"{cells[4]} | {cells[5]} |"
                )
    return lines


def write_results(
    path: Path,
    tables: list[Table],
    commands: list[str],
    started: datetime,
    seconds: float,
    invocation: str,
) -> None:
    try:
        uname = subprocess.run(
            ["uname", "-a"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        uname = " ".join(platform.uname())
    versions = ", ".join(f"{k} {v}" for k, v in _versions().items())
    head = [
        "# Benchmark results",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; whole run {seconds / 60:.1f} min "
        f"(goal ≤ {WHOLE_RUN_GOAL_MIN} min for `make bench`: "
        f"{'met' if seconds <= WHOLE_RUN_GOAL_MIN * 60 else 'MISSED'})",
        f"- load average: {_load()}; {os.cpu_count()} CPUs",
        f"- machine: `{uname}`; {os.cpu_count()} CPUs",
        f"- versions: {versions}",
        f"- commands: {invocation}, which runs each mode in a child process:",
        *[f"  - `{command}`" for command in commands],
        "- Absolute times are noisy on a shared 2-core machine; every ratio compares with an"
        " anchor measured in the same run, on the same broker, database and workers.",
        "",
        "## Goals",
        "",
        *_goal_summary(tables),
        "",
        "## Tables",
        "",
    ]
    order = {name: i for i, name in enumerate(BENCHES)}
    ordered = sorted(tables, key=lambda t: (order.get(t.bench, 99), MODES.index(t.mode)))
    body = [table_markdown(t, BENCHES[t.bench][1] if t.bench in BENCHES else "") for t in ordered]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(head) + "\n" + "\n".join(body), encoding="utf-8")


def parent(args: argparse.Namespace) -> int:
    names = args.names or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}")
        return 2
    modes = list(MODES) if args.mode == "both" else [args.mode]
    started = datetime.now(UTC)
    began = time.monotonic()
    run_id = uuid.uuid4().hex[:8]
    tables: list[Table] = []
    commands: list[str] = []
    for mode in modes:
        selected = [
            n for n in BENCHES if n in names and (BENCHES[n][2] == "both" or mode == "embedded")
        ]
        if not selected:
            continue
        print(f"\n##### {mode} mode: {', '.join(selected)}", flush=True)
        mode_tables, mode_commands = run_mode(mode, selected, run_id)
        tables.extend(mode_tables)
        commands.extend(mode_commands)
    seconds = time.monotonic() - began
    full = not args.names and args.mode == "both"
    output = (
        Path(args.output)
        if args.output
        else (RESULTS_DIR / ("latest.md" if full else "partial.md.tmp"))
    )
    argv = " ".join(sys.argv[1:])
    invocation = (
        "`make bench` → `python -m bench.run`" if not argv else f"`python -m bench.run {argv}`"
    )
    write_results(output, tables, commands, started, seconds, invocation)
    shown = output.relative_to(BASE_DIR) if output.is_relative_to(BASE_DIR) else output
    print(f"\nall benchmarks: {seconds / 60:.1f} min; results in {shown}")
    return 0


# -- child: one mode, in a process of its own ---------------------------------------------
def child(mode: str, names: list[str], out: Path) -> int:
    import django

    django.setup()
    # Jobs run in this process too (the CLI route): their INFO lines would drown the tables.
    logging.getLogger("jobs").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    data_dir = Path(os.environ["PLAYLISTER_DATA_DIR"])
    log_dir = data_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    ctx = Context(
        mode=mode, data_dir=data_dir, marks=Path(os.environ["BENCH_MARKS"]), log_dir=log_dir
    )
    tables: list[Table] = []
    try:
        for name in names:
            module_name, title, _ = BENCHES[name]
            if name not in SHARED_CLUSTER:
                ctx.stop_cluster()
            began = time.monotonic()
            try:
                module = importlib.import_module(module_name)
                produced = module.run(ctx)
            except Exception as exc:
                traceback.print_exc()
                produced = [not_available(name, title, mode, f"{type(exc).__name__}: {exc}")]
            for table in produced:
                table.bench, table.mode = name, mode
                table.title = table.title or title
                table.seconds = time.monotonic() - began
                print(table_text(table), flush=True)
            tables.extend(produced)
            out.write_text(json.dumps([t.as_dict() for t in tables]), encoding="utf-8")
    finally:
        ctx.stop_cluster()
        if os.environ.get("BENCH_KEEP_LOGS"):
            keep = Path(os.environ["BENCH_KEEP_LOGS"]) / mode
            shutil.copytree(log_dir, keep, dirs_exist_ok=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(BENCHES)}"
    )
    parser.add_argument("--mode", choices=["both", *MODES], default="both")
    parser.add_argument("--output", help="where to write the results (markdown)")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.names, Path(args.out))
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
