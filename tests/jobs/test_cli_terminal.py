"""The terminal as a person reads it (issue 16): a sentence as the last line, log lines above
the bar, columns that hold however long a name, moments to the second, help on every option.
Commands run as a person runs them: ``manage.py`` in a subprocess, on a pseudo-terminal (Python's
``pty``) where a terminal matters, on pipes where it does not."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import get_commands, load_command_class
from django.utils import timezone

from jobs.models import JobRun, JobStatus, Trigger
from jobs.terminal import cells
from tests.cluster import BASE_DIR, manage, subprocess_env
from tests.enrichment.helpers import env_for, library_of, start
from tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db(transaction=True)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING|ERROR) ")


def in_terminal(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> tuple[int, str]:
    """``manage.py ARGS`` with its stdin, stdout and stderr on a pseudo-terminal 120 columns
    wide; its exit code and everything it wrote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**subprocess_env(**(env or {})), "COLUMNS": "120", "TERM": "xterm"},
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # the terminal closed: the command has ended
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{args} still running after {timeout}s")
    finally:
        proc.kill()
        proc.wait()
        os.close(leader)
    return proc.returncode, b"".join(chunks).decode(errors="replace")


def screen(output: str) -> list[str]:
    """The lines a terminal shows for ``output``: a carriage return goes back to the line's
    start and what follows overwrites it (as the bar's redraws do)."""
    lines: list[str] = []
    line: list[str] = []
    column = 0
    for char in ANSI.sub("", output):
        if char == "\n":
            lines.append("".join(line).rstrip())
            line, column = [], 0
        elif char == "\r":
            column = 0
        else:
            if column < len(line):
                line[column] = char
            else:
                line.append(char)
            column += 1
    if line:
        lines.append("".join(line).rstrip())
    return [text for text in lines if text.strip()]


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = manage(*args, env=env)
    out, err = proc.communicate(timeout=90)
    return proc.returncode, out, err


def test_at_a_terminal_log_lines_print_above_the_bar_and_the_last_line_is_a_sentence():
    code, output = in_terminal("run_logging", "--lines", "3", "--threads", "2", "--hold-ms", "0")
    assert code == 0, output
    shown = screen(output)
    logged = [line for line in shown if "tests.jobapp.logging" in line]
    assert len(logged) == 6, shown  # 3 lines, 2 from pool threads, "holding"
    # Each on a line of its own, never after a bar drawn on the same line.
    assert all(LOG_LINE.match(line) for line in logged), logged
    job = JobRun.objects.get()
    assert shown[-1] == f"Job {job.pk} succeeded: Lines: 3", shown
    assert not any("{" in line for line in shown)


def test_without_a_terminal_the_last_line_is_the_same_sentence():
    code, out, err = run("run_steps", "--steps", "4", "--step-ms", "0")
    assert code == 0, err
    job = JobRun.objects.get()
    assert out.strip().splitlines()[-1] == f"Job {job.pk} succeeded: Steps: 4"
    assert "{" not in out


def test_a_run_with_everything_cached_says_so_in_words():
    with start(library_of(12, seed=5)) as fakes:
        env = env_for(fakes)
        code, _, err = run("warm_cache", env=env)
        assert code == 0, err
        code, output = in_terminal("warm_cache", env=env)
    assert code == 0, output
    shown = screen(output)
    assert not any("0 artists cached" in line for line in shown), shown
    assert any("All 12 artists were cached already" in line for line in shown), shown
    latest = JobRun.objects.order_by("-id").first()
    assert latest is not None
    assert shown[-1] == (
        f"Job {latest.pk} succeeded: All 12 artists were cached and fresh: nothing to fetch."
    )


def _column_starts(lines: list[str], words: list[str]) -> set[int]:
    """Where (in terminal cells) each word starts on each line."""
    return {cells(line[: line.index(word)]) for line, word in zip(lines, words, strict=True)}


def test_jobs_list_and_stats_keep_their_columns_however_long_a_name():
    end = timezone.now()
    long_window = "custom:Ein sehr langer Playlist-Name 北京 Rock 🎸"
    for window, status in [("morning", JobStatus.SUCCESS), (long_window, JobStatus.FAILED)]:
        JobRunFactory(
            job_type="playlist",
            window=window,
            status=status,
            trigger=Trigger.SCHEDULE,
            started_at=end - timedelta(seconds=3),
            finished_at=end,
            error="ValueError: boom" if status == JobStatus.FAILED else "",
        )
    JobRunFactory(status=JobStatus.QUEUED)
    code, out, err = run("jobs", "list")
    assert code == 0, err
    header, *rows = out.splitlines()
    assert len(rows) == 3
    statuses = [
        "STATUS",
        *(line.split()[3] if "custom:" not in line else "failed" for line in rows),
    ]
    assert len(_column_starts([header, *rows], statuses)) == 1, out
    triggers = ["TRIGGER", *(("schedule" if "playlist" in line else "web") for line in rows)]
    assert len(_column_starts([header, *rows], triggers)) == 1, out
    assert "ValueError" not in out and "Boom" in out  # errors as sentences
    assert "  -  " in rows[0] or " - " in rows[0]  # no window for a type that has none

    code, out, err = run("jobs", "stats")
    assert code == 0, err
    _queue, header, *rows = out.splitlines()
    assert len(rows) == 2
    # Counts are right-aligned: each ends where its header ends.
    ends = {cells(line[: line.index(word) + len(word)]) for line, word in [(header, "RUNS")]}
    for line in rows:
        runs = re.search(r"(\d+)\s+\d+\s+\d+\s+\S+\s+\S+$", line)
        assert runs, line
        ends.add(cells(line[: runs.end(1)]))
    assert len(ends) == 1, out


def test_jobs_show_reads_as_words_with_moments_to_the_second():
    end = timezone.now().replace(microsecond=123456)
    job = JobRunFactory(
        job_type="cache-warm",
        status=JobStatus.SUCCESS,
        params={"concurrency": 2, "skip_cached": True, "dry_run": False, "limit": None},
        queued_at=end - timedelta(seconds=5),
        started_at=end - timedelta(seconds=4),
        finished_at=end,
        result={"total": 10, "cached": 4, "plex": 5, "lastfm": 1, "failed": 1, "empty": 0,
                "written": 5, "errors": ["Orky: Last.fm: HTTP 503"]},
    )  # fmt: skip
    code, out, err = run("jobs", "show", str(job.pk))
    assert code == 0, err
    assert re.search(r"^finished:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", out, re.M), out
    assert ".123" not in out
    assert "params:           Concurrency: 2; Skip cached: Yes; Dry run: No; Limit: —" in out
    assert "Cached genres for 5 of 6 artists looked up (4 already cached, 1 failed)." in out
    assert re.search(r"Orky\s+Last\.fm: HTTP 503", out), out
    for raw in ("{", "'", "None", "True", "False"):
        assert raw not in out, (raw, out)


OUR_APPS = ("jobs", "enrichment", "playlister", "tests.jobapp")
# Django's own options of every command: documented by Django.
DJANGO_OPTIONS = {
    "--version", "--verbosity", "--settings", "--pythonpath", "--traceback", "--no-color",
    "--force-color", "--skip-checks", "--help",
}  # fmt: skip


def _actions(parser: Any) -> Iterator[tuple[str, Any]]:
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                for prefix, sub_action in _actions(sub):
                    yield f"{name} {prefix}", sub_action
        else:
            yield "", action


def test_every_option_of_every_command_has_help():
    missing = []
    commands = [(name, app) for name, app in get_commands().items() if app in OUR_APPS]
    assert len(commands) >= 10
    for name, app in commands:
        parser = load_command_class(app, name).create_parser("manage.py", name)
        for prefix, action in _actions(parser):
            spelled = action.option_strings or [action.dest]
            if set(spelled) & DJANGO_OPTIONS:
                continue
            if not (action.help or "").strip():
                missing.append(f"manage.py {name} {prefix}{'/'.join(spelled)}")
    assert missing == []
