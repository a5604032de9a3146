"""``manage.py jobs``: look at and steer the job system from a terminal."""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError
from django.utils import timezone

from jobs import control, control_cli, joblog, maintenance, queries, registry, selectors, services
from jobs.checkpoint import resumed_text
from jobs.cli import (
    EXIT_USAGE,
    JOB_ID,
    OneLineCommand,
    OneLineParser,
    enqueue_or_exit,
    int_between,
    print_queued,
    resume_here,
)
from jobs.models import JobRun, JobStatus, Priority, Trigger
from jobs.results import duration_text, readable_error
from jobs.terminal import clip, columns, moment, presented_lines

if TYPE_CHECKING:
    from argparse import ArgumentParser


def _seconds(value: float | None) -> str:
    return duration_text(value) or "-"


def _window(window: str, job_type: str) -> str:
    """A playlist run's window; "-" for the types whose window repeats their name."""
    return "-" if window == job_type else window


def _label(job_type: str) -> str:
    return registry.get(job_type).label if registry.is_registered(job_type) else "unregistered"


def _waiting(job: JobRun) -> bool:
    return job.status == JobStatus.QUEUED and job.run_after > timezone.now()


def _bounded_text(text: str) -> str:
    """A name given on the command line (a job type): short, or it names nothing."""
    if len(text) > 64:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}… is longer than 64 characters")
    return text


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--param takes key=value, not {pair!r}", returncode=EXIT_USAGE)
        params[key.strip().replace("-", "_")] = value
    return params


# Far enough back for any history kept, near enough to be a date (timedelta's own limit
# is ~2.7 million years, but "now minus it" must stay after year 1).
MAX_DAYS = 36_500
MAX_LIST = 1000


class Command(control_cli.QueueControlCommands, OneLineCommand):
    help = (
        "List, inspect, enqueue, retry, resume and cancel jobs; pause the queue; "
        "show queue metrics."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", parser_class=OneLineParser
        )
        list_parser = sub.add_parser("list", help="Recent jobs, newest first.")
        list_parser.add_argument(
            "--limit",
            type=int_between(1, MAX_LIST),
            default=20,
            help=f"How many jobs to list, 1 to {MAX_LIST} (default: 20).",
        )
        list_parser.add_argument(
            "--status", choices=JobStatus.values, help="Only jobs in this state."
        )
        list_parser.add_argument(
            "--type", dest="job_type", type=_bounded_text, help="Only jobs of this type."
        )
        show = sub.add_parser("show", help="One job in full.")
        show.add_argument("job_id", type=JOB_ID, metavar="ID", help="The job's id.")
        show.add_argument("--log", action="store_true", help="Also print the job's own log.")
        retry = sub.add_parser(
            "retry", help="Queue a new run of a finished job (same type and params); prints its id."
        )
        retry.add_argument("job_id", type=JOB_ID, metavar="ID", help="The finished job's id.")
        resume = sub.add_parser(
            "resume",
            help="Continue a failed or cancelled job here, from its checkpoint (a new run).",
        )
        resume.add_argument("job_id", type=JOB_ID, metavar="ID", help="The job's id.")
        cancel = sub.add_parser("cancel", help="Cancel a queued or running job.")
        cancel.add_argument("job_id", type=JOB_ID, metavar="ID", help="The job's id.")
        sub.add_parser("cancel-running", help="Ask every running job to stop.")
        enqueue = sub.add_parser(
            "enqueue", help="Queue a job for the cluster; prints its id (one per line)."
        )
        enqueue.add_argument(
            "job_type", type=_bounded_text, metavar="TYPE", help="A job type (`jobs types`)."
        )
        enqueue.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="A parameter of the job type; repeat for several.",
        )
        enqueue.add_argument(
            "--scheduled", action="store_true", help="Record it as scheduled (trigger 'schedule')."
        )
        enqueue.add_argument(
            "--priority",
            type=int_between(min(Priority.values), max(Priority.values)),
            default=None,
            help="Lower runs first: "
            + ", ".join(f"{p.value} {p.label.lower()}" for p in Priority)
            + " (default: the trigger's).",
        )
        stats = sub.add_parser("stats", help="Runs, failures, average and p95 duration.")
        stats.add_argument(
            "--days",
            type=int_between(0, MAX_DAYS),
            default=30,
            help=f"Runs that ended in the last DAYS days, 0 to {MAX_DAYS} (0: all history).",
        )
        sub.add_parser("types", help="The registered job types and their parameters.")
        sub.add_parser(
            "maintain", help="Rescue jobs of lost workers, re-ticket queued jobs, prune history."
        )
        control_cli.add_parsers(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("-", "_")
        try:
            getattr(self, f"do_{action}")(options)
        except registry.JobError as exc:  # no such job, unknown type, bad params, …
            raise CommandError(str(exc), returncode=EXIT_USAGE) from None

    def do_list(self, options: dict[str, Any]) -> None:
        jobs = JobRun.objects.all()
        if options["status"]:
            jobs = jobs.filter(status=options["status"])
        if options["job_type"]:
            jobs = jobs.filter(job_type=options["job_type"])
        rows = [
            [
                str(job.pk),
                job.job_type,
                _window(job.window, job.job_type),
                job.status,
                job.trigger,
                timezone.localtime(job.queued_at).strftime("%Y-%m-%d %H:%M:%S"),
                _seconds(job.duration_seconds),
                clip(readable_error(job.error), 60) if job.error else "",
            ]
            for job in jobs.order_by("-id")[: options["limit"]]
        ]
        headers = ["ID", "TYPE", "WINDOW", "STATUS", "TRIGGER", "QUEUED", "DURATION", "ERROR"]
        paused = control_cli.pause_line(control.queue_state())
        if paused:
            self.stdout.write(paused)
        for line in columns(headers, rows, right={0, 6}):
            self.stdout.write(line)

    def do_show(self, options: dict[str, Any]) -> None:
        job = selectors.get_job(options["job_id"])
        progress = selectors.progress_of(job)
        params = registry.params_for_people(job.job_type, job.params)
        fields: list[tuple[str, object]] = [
            ("id", job.pk),
            ("type", f"{job.job_type} ({_label(job.job_type)})"),
            ("window", _window(job.window, job.job_type)),
            ("status", job.status),
            ("trigger", job.trigger + (" (direct)" if job.direct else "")),
            ("priority", job.get_priority_display()),
            ("params", "; ".join(f"{label}: {value}" for label, value in params) or "-"),
            ("attempt", f"{job.attempt} of {job.max_attempts}"),
            ("queued", moment(job.queued_at)),
            *([("next attempt", moment(job.run_after))] if _waiting(job) else []),
            ("started", moment(job.started_at)),
            ("finished", moment(job.finished_at)),
            ("duration", _seconds(job.duration_seconds)),
            ("worker", job.worker or "-"),
            ("progress", f"{progress.current}/{progress.total or '?'} {progress.message}".strip()),
            (
                "sources",
                ", ".join(f"{name} {n}" for name, n in sorted(progress.source_counts.items()))
                or "-",
            ),
            ("eta", _seconds(progress.eta_seconds)),
            ("error", readable_error(job.error) if job.error else "-"),
            ("cancel requested", moment(job.cancel_requested_at)),
            ("retry of", f"#{job.retry_of_id}" if job.retry_of_id else "-"),
            ("resumed", resumed_text(job.checkpoint) or "-"),
            (
                "retried as",
                ", ".join(
                    f"#{pk}" for pk in job.retries.order_by("id").values_list("id", flat=True)
                )
                or "-",
            ),
        ]
        for label, value in fields:
            self.stdout.write(f"{label + ':':<18}{value}")
        if job.status == JobStatus.SUCCESS:
            first, *more = presented_lines(registry.presented(job.job_type, job.result))
            self.stdout.write(f"{'result:':<18}{first}")
            for more_line in more:
                self.stdout.write(f"{'':<16}{more_line}")
        if options["log"]:
            lines = joblog.lines_of(job.pk)
            self.stdout.write(f"log:              {len(lines)} line(s)")
            for line in lines:
                at = timezone.localtime(line.created).strftime("%H:%M:%S")
                level = logging.getLevelName(line.level)
                self.stdout.write(f"  {at} {level:<7} {line.logger}: {line.message}")

    def do_retry(self, options: dict[str, Any]) -> None:
        job = services.retry_job(job_id=options["job_id"], trigger=Trigger.CLI)
        print_queued(job, stdout=self.stdout, stderr=self.stderr)

    def do_resume(self, options: dict[str, Any]) -> None:
        job = resume_here(
            options["job_id"], stderr=self.stderr, tracebacks=options.get("traceback", False)
        ).or_exit()
        if job.status == JobStatus.SUCCESS:
            summary = registry.presented(job.job_type, job.result).summary
            self.stdout.write(self.style.SUCCESS(f"Job {job.pk} succeeded: {summary}"))

    def do_cancel(self, options: dict[str, Any]) -> None:
        job = services.cancel_job(job_id=options["job_id"])
        if job.status == JobStatus.CANCELLED:
            self.stdout.write(f"Job {job.pk} cancelled.")
        else:
            self.stdout.write(f"Job {job.pk} asked to stop; it ends at its next checkpoint.")

    def do_cancel_running(self, options: dict[str, Any]) -> None:
        count = services.cancel_running()
        self.stdout.write(f"Asked {count} running job(s) to stop.")

    def do_enqueue(self, options: dict[str, Any]) -> None:
        # Params may stand for several jobs (a playlist of all windows): one id each.
        enqueue_or_exit(
            options["job_type"],
            _parse_params(options["param"]),
            trigger=Trigger.SCHEDULE if options["scheduled"] else Trigger.CLI,
            priority=options["priority"],
            stdout=self.stdout,
            stderr=self.stderr,
        )

    def do_stats(self, options: dict[str, Any]) -> None:
        since = timezone.now() - timedelta(days=options["days"]) if options["days"] else None
        queue = selectors.queue_stats()
        self.stdout.write(
            f"queue: {queue['pending']} pending, {queue['active']} active, "
            f"concurrency {queue['concurrency']}"
        )
        paused = control_cli.pause_line(control.queue_state())
        if paused:
            self.stdout.write(paused)
        rows = [
            [
                m.job_type,
                _window(m.window, m.job_type),
                str(m.runs),
                str(m.failures),
                str(m.cancelled),
                _seconds(m.avg_seconds),
                _seconds(m.p95_seconds),
            ]
            for m in queries.type_metrics(queries.HistoryFilters(), finished_since=since)
        ]
        headers = ["TYPE", "WINDOW", "RUNS", "FAILED", "CANCELLED", "AVG", "P95"]
        for line in columns(headers, rows, right={2, 3, 4, 5, 6}):
            self.stdout.write(line)

    def do_maintain(self, options: dict[str, Any]) -> None:
        report = maintenance.run_maintenance()
        self.stdout.write(
            f"requeued {report.requeued}, failed as lost {report.failed}, "
            f"tickets pushed {report.tickets}, metrics windows rolled up {report.rolled_up}, "
            f"pruned {report.pruned}"
        )

    def do_types(self, options: dict[str, Any]) -> None:
        for spec in registry.all_types():
            params = ", ".join(
                f"{name}={f.initial}" if f.initial is not None else name
                for name, f in spec.params.base_fields.items()
            )
            self.stdout.write(f"{spec.name:<20} {spec.label} ({params or 'no parameters'})")
