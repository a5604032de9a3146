"""``manage.py generate_playlist WINDOW|all``: one window's playlist, or every window's."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError

from jobs.cli import EXIT_FAILED, EXIT_USAGE, JobCommand
from jobs.models import JobStatus
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
        failed = False
        for window in windows:
            ran = self.start({**self.get_params(options), "window": window.value}, options)
            if ran is None:  # queued: its id is printed
                continue
            if ran.exit_code == EXIT_FAILED and len(windows) > 1:
                failed = True  # keep going: one window's failure should not stop the others
                continue
            job = ran.or_exit()
            if job.status == JobStatus.SUCCESS and job.result:
                self.stdout.write(
                    self.style.SUCCESS(f"{job.result['title']}: {job.result['summary']}")
                )
                for note in job.result.get("notes", []):
                    self.stdout.write(f"  {note}")
        if failed:
            sys.exit(EXIT_FAILED)
