"""``manage.py generate_playlist WINDOW|all``: one window's playlist, or every window's."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError

from jobs.cli import EXIT_FAILED, EXIT_USAGE, JobCommand, enqueue_or_exit, run_here
from jobs.models import JobStatus, Trigger
from playlister.windows import Window

if TYPE_CHECKING:
    from argparse import ArgumentParser


class Command(JobCommand):
    help = f"Generate a playlist: {', '.join(Window)}, or all."
    job_type = "playlist"
    skip_params = ("window",)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("which", metavar="WINDOW|all", help=", ".join([*Window, "all"]))
        super().add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        which = options["which"]
        if which != "all" and which not in Window.__members__.values():
            raise CommandError(
                f"unknown window {which!r} (choose: {', '.join([*Window, 'all'])})",
                returncode=EXIT_USAGE,
            )
        windows = list(Window) if which == "all" else [Window(which)]
        trigger = Trigger.SCHEDULE if options["scheduled"] else Trigger.CLI
        failed = False
        for window in windows:
            params = {**self.get_params(options), "window": window.value}
            if options["enqueue"]:
                enqueue_or_exit(
                    self.job_type, params, trigger=trigger, stdout=self.stdout, stderr=self.stderr
                )
                continue
            ran = run_here(
                self.job_type,
                params,
                trigger=trigger,
                terminal=not options["scheduled"],
                stderr=self.stderr,
                tracebacks=options["traceback"],
            )
            if ran.exit_code == EXIT_FAILED and len(windows) > 1:
                failed = True  # keep going: one window's failure should not stop the others
                continue
            if ran.exit_code:
                sys.exit(ran.exit_code)
            job = ran.job
            if job.status == JobStatus.SUCCESS and job.result:
                self.stdout.write(
                    self.style.SUCCESS(f"{job.result['title']}: {job.result['summary']}")
                )
                for note in job.result.get("notes", []):
                    self.stdout.write(f"  {note}")
        if failed:
            sys.exit(EXIT_FAILED)
