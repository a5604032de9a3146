"""The CLI and cron routes, shared by every job type's management command.

A job type's command is a few lines::

    class Command(JobCommand):
        help = "Warm the artist genre cache."
        job_type = "cache-warm"

Its flags come from the job type's params form (``--concurrency``, ``--dry-run``, …). By
default the command calls the core service in this process with a terminal progress bar;
Ctrl+C or SIGTERM cancels cleanly at the next checkpoint (row ``cancelled``, exit code 130
or 143); a second signal forces the exit, after writing the row as cancelled
("interrupted"). ``--scheduled`` is for cron: plain log lines, trigger ``schedule``.
``--enqueue`` hands the job to the cluster and prints its id. Bad input — an option out of
its bounds, an unknown flag — exits with code 2 and one line, recording nothing.

When a job with the same dedupe key is already queued or running, the command never runs
it (``jobs.follow``): at a terminal it follows that job and exits with its outcome, from
cron it logs a skip and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import signal
import sys
import threading
from argparse import ArgumentParser, BooleanOptionalAction
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from django import forms
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    OutputWrapper,
    SystemCheckError,
)
from django.db import connections

from jobs import control, follow, registry, services
from jobs.bars import LogProgress, TerminalProgress, log_above_bar
from jobs.cancel import CancelEvent
from jobs.checkpoint import Checkpoint
from jobs.models import FINISHED_STATUSES, JobRun, JobStatus, Trigger
from jobs.results import readable_error
from jobs.runner import execute

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

    from jobs.progress import Progress

logger = logging.getLogger("jobs.cli")
runner_log = logging.getLogger("jobs.runner")

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 128 + signal.SIGINT  # 130; 143 (128 + SIGTERM) after a SIGTERM
INTERRUPTED = "Cancelled (interrupted)"


def _no_failure_traceback(record: logging.LogRecord) -> bool:
    # The command prints the failure as one line; a traceback before it buries it.
    return record.exc_info is None


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


class OneLineParser(CommandParser):
    """argparse's usage errors in one line (``--help`` has the usage), exit code 2."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (--help shows the usage)\n")
        raise CommandError(f"Error: {message}", returncode=EXIT_USAGE)


class OneLineCommand(BaseCommand):
    """A management command whose bad options end in one line and exit code 2.

    Subcommands pass ``parser_class=OneLineParser`` to ``add_subparsers``. A failure reads
    "Error: no job with id 7", not Django's "CommandError: …" (its class name means nothing
    to the person at the terminal); ``--traceback`` and ``call_command`` still raise.
    """

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            from_terminal = getattr(self, "_called_from_command_line", False)
            if not from_terminal or options.get("traceback") or isinstance(exc, SystemCheckError):
                raise
            self.stderr.write(f"Error: {exc}")
            sys.exit(exc.returncode)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django builds a CommandParser; ours only replaces how an error is reported.
        parser.__class__ = OneLineParser
        return parser


def _number(text: str, kind: type[int] | type[float], low: float, high: float) -> Any:
    text = text.strip()
    bounds = f"from {low:g} to {high:g}" if kind is float else f"from {low} to {high}"
    if len(text) > 30:  # no bound here has 30 digits: say so without echoing it all
        raise argparse.ArgumentTypeError(f"{text[:20]!r}… is out of range (must be {bounds})")
    try:
        value = kind(text)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be {bounds}, not {text}")
    return value


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high``."""
    return lambda text: int(_number(text, int, low, high))


def float_between(low: float, high: float) -> Callable[[str], float]:
    """An argparse ``type``: a finite number from ``low`` to ``high``."""
    return lambda text: float(_number(text, float, low, high))


# Row ids are 64-bit on every backend; a larger number cannot name a job.
JOB_ID = int_between(1, 2**63 - 1)


class JobCommand(OneLineCommand):
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

    def start(self, params: dict[str, Any], options: dict[str, Any]) -> Ran | None:
        """Hand the job to the cluster (``--enqueue``: its id printed, None) or run it here."""
        trigger = Trigger.SCHEDULE if options["scheduled"] else Trigger.CLI
        if options["enqueue"]:
            enqueue_or_exit(
                self.job_type, params, trigger=trigger, stdout=self.stdout, stderr=self.stderr
            )
            return None
        return run_here(
            self.job_type,
            params,
            trigger=trigger,
            terminal=not options["scheduled"],
            stderr=self.stderr,
            tracebacks=options["traceback"],
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ran = self.start(self.get_params(options), options)
        if ran is None:
            return
        job = ran.or_exit()
        if job.status == JobStatus.SUCCESS:
            # The result in words (its presenter), not the stored JSON: `jobs show` has more.
            summary = registry.presented(job.job_type, job.result).summary
            self.stdout.write(self.style.SUCCESS(f"Job {job.pk} succeeded: {summary}"))


def enqueue_or_exit(
    job_type: str,
    params: dict[str, Any],
    *,
    trigger: Trigger,
    stdout: OutputWrapper,
    stderr: OutputWrapper,
    priority: int | None = None,
) -> list[JobRun]:
    """Queue the job(s) ``params`` stand for (``enqueue_each``) and print their ids, one a
    line; a job already queued or running under the same dedupe key stands in for a new one,
    which stderr says. Bad input exits with code 2, recording nothing."""
    try:
        jobs = services.enqueue_each(
            job_type=job_type, params=params, trigger=trigger, priority=priority
        )
    except registry.JobError as exc:
        raise CommandError(str(exc), returncode=EXIT_USAGE) from None
    for job in jobs:
        print_queued(job, stdout=stdout, stderr=stderr)
    return jobs


def print_queued(job: JobRun, *, stdout: OutputWrapper, stderr: OutputWrapper) -> None:
    """A queued job's id (scripts read it); first, on stderr, when it was already active."""
    if job.deduplicated:
        stderr.write(f"Job {job.pk} ({job.job_type}) is already {job.status}.")
    stdout.write(str(job.pk))


class Signals:
    """SIGINT and SIGTERM while a command runs or follows a job.

    The first calls ``first(signum)`` (cancel at the next checkpoint, stop following); a
    second calls ``second(signum)``, which must end the process. ``exit_code`` follows the
    first signal: 130 for SIGINT, 143 for SIGTERM (``timeout(1)`` sends its SIGTERM to the
    command and to its process group: a command run under it gets two).
    """

    def __init__(
        self, *, first: Callable[[int], None], second: Callable[[int], None] | None = None
    ) -> None:
        self._first, self._second = first, second
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def exit_code(self) -> int:
        return 128 + (self.received or signal.SIGINT)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
            self._first(signum)
        elif self._second is not None:
            self._second(signum)

    def __enter__(self) -> Signals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def _signal_name(signum: int) -> str:
    return "Ctrl+C" if signum == signal.SIGINT else signal.Signals(signum).name


def _write_interrupted(job: JobRun) -> None:
    """Record ``job`` as cancelled ("interrupted") from a thread of its own: the main
    thread was stopped by the signal anywhere, perhaps inside a query on its connection."""

    def write() -> None:
        try:
            services.finish(
                job=job,
                status=JobStatus.CANCELLED,
                error=INTERRUPTED,
                progress={"progress_message": "Cancelled"},
            )
        except Exception:
            # The process goes anyway; the rescue marks the run lost later.
            logger.warning("could not record job %s as interrupted", job.pk, exc_info=True)
        finally:
            connections.close_all()

    writer = threading.Thread(target=write, name="interrupted", daemon=True)
    writer.start()
    # Bounded: the main thread may hold SQLite's write lock that this write waits for.
    writer.join(5.0)


@dataclass(frozen=True)
class Ran:
    """How a run in this process ended: the job, and the exit code it calls for (0: it
    succeeded, or cron skipped a job that another process runs)."""

    job: JobRun
    exit_code: int = 0

    def or_exit(self) -> JobRun:
        """The job, unless the run calls for an exit code: then the process ends with it."""
        if self.exit_code:
            sys.exit(self.exit_code)
        return self.job


def run_here(
    job_type: str,
    params: dict[str, Any],
    *,
    trigger: Trigger,
    terminal: bool,
    stderr: Any,
    tracebacks: bool = False,
) -> Ran:
    """Run ``job_type`` here and say on stderr how it ended if not well: exit code 1 if it
    failed, 130/143 if it was cancelled.

    At a terminal a failure is one line; the runner's log record with the traceback is held
    back unless ``tracebacks`` (``--traceback``). Cron runs (not ``terminal``) log it.
    If an active job holds the dedupe key, it is followed (terminal) or skipped (cron).
    """
    try:
        spec = registry.get(job_type)
        spec.validate(params)
    except registry.JobError as exc:
        raise CommandError(str(exc), returncode=EXIT_USAGE) from None
    job = services.start_direct(job_type=job_type, params=params, trigger=trigger)
    return _run_job_here(job, spec, terminal=terminal, stderr=stderr, tracebacks=tracebacks)


def resume_here(job_id: int, *, stderr: Any, tracebacks: bool = False) -> Ran:
    """``manage.py jobs resume ID``: continue a failed or cancelled run here, at the
    terminal, from its checkpoint; ends like ``run_here``. Any other run (unknown, queued,
    running, successful) is a one-line error that changes nothing."""
    try:
        job = services.resume_direct(job_id=job_id, trigger=Trigger.CLI)
        spec = registry.get(job.job_type)
    except registry.JobError as exc:
        raise CommandError(str(exc), returncode=EXIT_USAGE) from None
    if not job.deduplicated:
        saved = Checkpoint.from_json(job.checkpoint)
        where = (
            f"resuming from {saved.current}/{saved.total or '?'}"
            if saved is not None
            else "no checkpoint: starting from the beginning"
        )
        stderr.write(f"Job {job.pk} continues job {job_id}: {where}.")
    return _run_job_here(job, spec, terminal=True, stderr=stderr, tracebacks=tracebacks)


def _run_job_here(
    job: JobRun, spec: registry.JobType, *, terminal: bool, stderr: Any, tracebacks: bool
) -> Ran:
    if job.deduplicated:
        return _not_ours(job, spec, terminal=terminal, stderr=stderr)
    paused = control.queue_state().paused_for(spec.name)
    if paused is not None:
        # A direct run is an explicit act: it runs (and counts for its lane's limit).
        stderr.write(
            f"Note: the queue is paused for {spec.name} ({paused.paused_by}); running it here."
        )

    token = CancelEvent()
    listener: Progress
    bar: TerminalProgress | None = None
    if terminal:
        bar = TerminalProgress(description=spec.label)
        listener = bar
    else:
        listener = LogProgress(job_type=spec.name)

    def cancel(signum: int) -> None:
        stderr.write("\nCancelling at the next checkpoint… (Ctrl+C again to force)")
        token.cancel(f"Cancelled ({_signal_name(signum)})")

    def force(signum: int) -> None:
        _write_interrupted(job)
        if bar is not None:
            bar.close()
        stderr.write(f"Job {job.pk} cancelled (interrupted).")
        stderr.flush()
        # At once: the job's threads may be in a call that does not look at the token.
        os._exit(signals.exit_code)

    signals = Signals(first=cancel, second=force)
    quiet = terminal and not tracebacks
    if quiet:
        runner_log.addFilter(_no_failure_traceback)
    try:
        with signals, log_above_bar() if bar is not None else contextlib.nullcontext():
            job = execute(job, listener=listener, token=token)
    finally:
        runner_log.removeFilter(_no_failure_traceback)
        if bar is not None:
            bar.close()
    return _outcome(job, stderr, code=signals.exit_code, quiet=quiet)


def _outcome(job: JobRun, stderr: Any, *, code: int, quiet: bool = False) -> Ran:
    if job.status == JobStatus.CANCELLED:
        stderr.write(f"Job {job.pk} cancelled.")
        return Ran(job, code)
    if job.status == JobStatus.FAILED:
        if quiet:
            stderr.write("(--traceback shows where it failed)")
        # Last: what a person (or a script reading the last line) needs.
        stderr.write(f"Job {job.pk} failed: {readable_error(job.error)}")
        return Ran(job, EXIT_FAILED)
    return Ran(job)


def _not_ours(job: JobRun, spec: registry.JobType, *, terminal: bool, stderr: Any) -> Ran:
    """``job`` (queued or running elsewhere) holds the dedupe key: never run it here.

    Cron: a skip, and ``job`` comes back as it is (not finished: nothing to report). At a
    terminal: follow it and end like a run of our own.
    """
    if line := follow.orphaned(job, spec.name):
        if terminal:
            stderr.write(line)
        else:
            logger.warning("%s", line)
        return Ran(job, EXIT_FAILED)
    if not terminal:
        # Exit code 0: `generate_playlist all` goes on with the next window.
        logger.info("%s", follow.skip_line(job, spec.name))
        return Ran(job)
    stop = threading.Event()
    signals = Signals(first=lambda signum: stop.set())
    # Signals first: the next line tells a person that Ctrl+C stops following.
    with signals, log_above_bar():
        stderr.write(follow.announcement(job, spec.name))
        bar = TerminalProgress(description=f"{spec.label} (job {job.pk})")
        try:
            job, line = follow.follow(job, display=bar, stop=stop, job_type=spec.name)
        finally:
            bar.close()
    if line:
        stderr.write(line)
        return Ran(job, EXIT_FAILED)
    if signals.received is not None and job.status not in FINISHED_STATUSES:
        stderr.write(
            f"Stopped following job {job.pk}; it goes on "
            f"(`manage.py jobs cancel {job.pk}` stops it)."
        )
        return Ran(job, signals.exit_code)
    return _outcome(job, stderr, code=EXIT_CANCELLED)
