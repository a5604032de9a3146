"""``manage.py schedules``: the Schedules page from a terminal.

    schedules list
    schedules enable NAME | disable NAME
    schedules set NAME "CRON"
    schedules run NAME [--scheduled | --enqueue]
    schedules reset

Bad names and expressions exit with code 2 and one line; nothing changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError
from django.utils import timezone

from jobs import services
from jobs.cli import EXIT_USAGE, OneLineCommand, print_queued, run_here
from jobs.models import JobRun, Trigger
from jobs.registry import JobError
from jobs.schedules import services as schedules
from jobs.schedules.present import schedule_views

if TYPE_CHECKING:
    from argparse import ArgumentParser

    from jobs.models import JobSchedule


NAME_HELP = "The schedule's name (`schedules list` shows them)."


class Command(OneLineCommand):
    help = "List, enable, disable, edit, run and reset the schedules (see /schedules/)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        sub.add_parser("list", help="Every schedule: its job, expression, next and last run.")
        for action, text in (("enable", "Let the cluster fire it."), ("disable", "Stop it.")):
            sub.add_parser(action, help=text).add_argument("name", help=NAME_HELP)
        set_parser = sub.add_parser("set", help="Give a schedule a new cron expression.")
        set_parser.add_argument("name", help=NAME_HELP)
        set_parser.add_argument("cron", help='five fields, quoted: "0 5 * * *"')
        run = sub.add_parser(
            "run", help="Run a schedule's job now, here with a progress bar (or as below)."
        )
        run.add_argument("name", help=NAME_HELP)
        how = run.add_mutually_exclusive_group()
        how.add_argument(
            "--scheduled",
            action="store_true",
            help="For the system crontab: log lines, trigger 'schedule', recorded as its run.",
        )
        how.add_argument(
            "--enqueue", action="store_true", help="Hand the job to the cluster; prints its id."
        )
        sub.add_parser("reset", help="Put the default schedules back as shipped.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"do_{options['action']}")(options)
        except JobError as exc:
            raise CommandError(str(exc), returncode=EXIT_USAGE) from None

    def do_list(self, options: dict[str, Any]) -> None:
        views = schedule_views()
        if not views:
            self.stdout.write("No schedules (manage.py schedules reset installs the defaults).")
            return
        tz = schedules.zone()
        self.stdout.write(f"Times in {tz.key}.")
        self.stdout.write(
            f"{'NAME':<20} {'ON':<3} {'CRON':<16} {'NEXT RUN':<22} {'LAST RUN':<40} JOB"
        )
        for v in views:
            self.stdout.write(
                f"{v.name:<20} {'yes' if v.enabled else 'no':<3} {v.cron:<16} "
                f"{(v.next_runs[0].text if v.next_runs else '-'):<22} "
                f"{v.last_run_text:<40} {v.job_text}"
            )
            self.stdout.write(f"{'':<20} {'':<3} {v.reading}")

    def do_enable(self, options: dict[str, Any]) -> None:
        changed = schedules.set_enabled(options["name"], True)
        self._said(options["name"], "enabled" if changed else "was enabled already")

    def do_disable(self, options: dict[str, Any]) -> None:
        changed = schedules.set_enabled(options["name"], False)
        self._said(options["name"], "disabled" if changed else "was disabled already")

    def do_set(self, options: dict[str, Any]) -> None:
        changed = schedules.set_cron(options["name"], options["cron"])
        row = schedules.get(options["name"])
        self._said(row.name, f"runs {row.schedule.cron}" if changed else "is unchanged")

    def _said(self, name: str, what: str) -> None:
        view = schedule_views([schedules.get(name)])[0]
        upcoming = ", ".join(run.text for run in view.next_runs) or "never"
        self.stdout.write(f"{name} {what}: {view.reading}. Next: {upcoming}.")

    def do_reset(self, options: dict[str, Any]) -> None:
        for name, what in schedules.reset():
            self.stdout.write(f"{name}: {what}")

    def do_run(self, options: dict[str, Any]) -> None:
        row = schedules.get(options["name"])
        if options["enqueue"]:
            job = schedules.run_now(row.name, trigger=Trigger.CLI)
            print_queued(job, stdout=self.stdout, stderr=self.stderr)
            return
        scheduled = options["scheduled"]
        started = timezone.now()
        try:
            job = run_here(
                row.job_type,
                row.params,
                trigger=Trigger.SCHEDULE if scheduled else Trigger.CLI,
                terminal=not scheduled,
                stderr=self.stderr,
                tracebacks=options["traceback"],
            ).or_exit()
        finally:
            if scheduled:
                _record_cron_run(row, since=started)
        self.stdout.write(self.style.SUCCESS(f"Job {job.pk} succeeded: {job.result}"))


def _record_cron_run(row: JobSchedule, *, since: Any) -> None:
    """The run this process just made (it may have ended the process with an exit code)."""
    job = (
        JobRun.objects.filter(
            job_type=row.job_type,
            trigger=Trigger.SCHEDULE,
            direct=True,
            worker=services.worker_name(),
            queued_at__gte=since,
        )
        .order_by("-id")
        .first()
    )
    if job is not None:
        schedules.record_direct_run(row, job)
