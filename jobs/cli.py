"""The CLI and cron routes, shared by every job type's management command.

A job type's command is a few lines::

    class Command(JobCommand):
        help = "Warm the artist genre cache."
        job_type = "cache-warm"

Its flags come from the job type's params form (``--concurrency``, ``--dry-run``, …). By
default the command calls the core service in this process with a terminal progress bar;
Ctrl+C cancels cleanly (row ``cancelled``, exit code 130). ``--scheduled`` is for cron:
plain log lines, trigger ``schedule``. ``--enqueue`` hands the job to the cluster and prints
its id. Bad input exits with code 2 and one line, recording nothing.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from argparse import ArgumentParser, BooleanOptionalAction
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from jobs import registry, services
from jobs.cancel import CancelEvent
from jobs.models import JobRun, JobStatus, Trigger
from jobs.progress import source_names
from jobs.runner import run_direct

if TYPE_CHECKING:
    from types import FrameType

    from jobs.progress import Progress, Sources

logger = logging.getLogger("jobs.cli")
runner_log = logging.getLogger("jobs.runner")

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130


def _no_failure_traceback(record: logging.LogRecord) -> bool:
    # The command prints the failure as one line; a traceback before it buries it.
    return record.exc_info is None


class TerminalProgress:
    """A tqdm bar on stderr; source counts shown after the bar."""

    def __init__(self, *, description: str, file: Any = None) -> None:
        self._bar = tqdm(total=None, desc=description, file=file or sys.stderr, unit="item")
        self._sources: dict[str, int] = {}

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

    def close(self) -> None:
        self._bar.close()

    def _describe(self, message: str | None) -> None:
        postfix = " ".join(f"{k}={v}" for k, v in sorted(self._sources.items()))
        if message:
            postfix = f"{message} {postfix}".strip()
        self._bar.set_postfix_str(postfix[:80], refresh=False)


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


def _option_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def add_params_arguments(
    parser: ArgumentParser, spec: registry.JobType, *, skip: tuple[str, ...] = ()
) -> None:
    """One flag per field of the job type's params form; the form still validates. A flag
    left out is absent (None): the form gives it its initial value, as on every route."""
    for name, field in spec.params.base_fields.items():
        if name in skip:
            continue
        help_text = str(field.help_text or field.label or name)
        if isinstance(field, forms.BooleanField):
            parser.add_argument(
                _option_name(name),
                dest=name,
                action=BooleanOptionalAction,
                default=None,
                help=f"{help_text} (default: {'yes' if field.initial else 'no'})",
            )
        else:
            default = "" if field.initial is None else f" (default: {field.initial})"
            parser.add_argument(
                _option_name(name), dest=name, default=None, help=help_text + default
            )


def params_from_options(spec: registry.JobType, options: dict[str, Any]) -> dict[str, Any]:
    return {
        name: options[name] for name in spec.params.base_fields if options.get(name) is not None
    }


class JobCommand(BaseCommand):
    """Base class of a job type's management command (see the module docstring)."""

    job_type: str = ""
    # Params the command takes another way (a positional argument) rather than as flags.
    skip_params: tuple[str, ...] = ()

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--scheduled",
            action="store_true",
            help="Run as a scheduled job (cron): log lines instead of a bar, trigger 'schedule'.",
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Hand the job to the job cluster instead of running it here; prints its id.",
        )
        add_params_arguments(parser, registry.get(self.job_type), skip=self.skip_params)

    def get_params(self, options: dict[str, Any]) -> dict[str, Any]:
        """The job's params from the parsed options; override for positional arguments."""
        return params_from_options(registry.get(self.job_type), options)

    def handle(self, *args: Any, **options: Any) -> None:
        params = self.get_params(options)
        trigger = Trigger.SCHEDULE if options["scheduled"] else Trigger.CLI
        if options["enqueue"]:
            job = enqueue_or_exit(self.job_type, params, trigger=trigger)
            self.stdout.write(str(job.pk))
            return
        job = run_or_exit(
            self.job_type,
            params,
            trigger=trigger,
            terminal=not options["scheduled"],
            stderr=self.stderr,
            tracebacks=options["traceback"],
        )
        if job.status == JobStatus.SUCCESS:
            self.stdout.write(self.style.SUCCESS(f"Job {job.pk} succeeded: {job.result}"))


def enqueue_or_exit(job_type: str, params: dict[str, Any], *, trigger: Trigger) -> JobRun:
    try:
        job = services.enqueue(job_type, params, trigger=trigger)
    except registry.JobError as exc:
        raise CommandError(str(exc), returncode=EXIT_USAGE) from None
    return job


def run_or_exit(
    job_type: str,
    params: dict[str, Any],
    *,
    trigger: Trigger,
    terminal: bool,
    stderr: Any,
    tracebacks: bool = False,
) -> JobRun:
    """Run ``job_type`` here; exit 1 if it failed, 130 if it was cancelled.

    At a terminal a failure is one line; the runner's log record with the traceback is held
    back unless ``tracebacks`` (``--traceback``). Cron runs (not ``terminal``) log it.
    """
    try:
        spec = registry.get(job_type)
        spec.validate(params)
    except registry.JobError as exc:
        raise CommandError(str(exc), returncode=EXIT_USAGE) from None
    token = CancelEvent()
    listener: Progress
    bar: TerminalProgress | None = None
    if terminal:
        bar = TerminalProgress(description=spec.label)
        listener = bar
    else:
        listener = LogProgress(job_type=job_type)

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if token.cancelled:  # a second Ctrl+C: stop waiting for a checkpoint
            raise KeyboardInterrupt
        stderr.write("\nCancelling at the next checkpoint… (Ctrl+C again to force)")
        token.cancel("Cancelled (interrupted)")

    previous = signal.signal(signal.SIGINT, on_sigint)
    previous_term = signal.signal(signal.SIGTERM, on_sigint)
    quiet = terminal and not tracebacks
    if quiet:
        runner_log.addFilter(_no_failure_traceback)
    try:
        job = run_direct(job_type, params, trigger=trigger, listener=listener, token=token)
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        runner_log.removeFilter(_no_failure_traceback)
        if bar is not None:
            bar.close()
    if job.status == JobStatus.CANCELLED:
        stderr.write(f"Job {job.pk} cancelled.")
        sys.exit(EXIT_CANCELLED)
    if job.status == JobStatus.FAILED:
        if quiet:
            stderr.write("(--traceback shows where it failed)")
        # Last: what a person (or a script reading the last line) needs.
        stderr.write(f"Job {job.pk} failed: {job.error}")
        sys.exit(EXIT_FAILED)
    return job
