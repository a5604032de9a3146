"""``make run``: the web server and a job cluster together; Ctrl+C stops both."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings

from jobs.cli import OneLineCommand

if TYPE_CHECKING:
    from argparse import ArgumentParser
    from types import FrameType


class Command(OneLineCommand):
    help = "Serve the app (runserver) with a Django-Q2 cluster beside it; Ctrl+C stops both."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help="Where the web server listens, HOST:PORT (default: 127.0.0.1:8000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        env = dict(os.environ)
        demo = None
        if not settings.PLAYLISTER_PLEX_URL:
            from enrichment.demo import DEMO_ARTISTS, demo_settings, start_demo, write_env_file

            demo = start_demo()
            env.update(demo_settings(demo))
            write_env_file(settings.DEMO_ENV_FILE, demo_settings(demo))
            self.stdout.write(
                f"No Plex server configured (PLAYLISTER_PLEX_URL): serving a demo library of "
                f"{DEMO_ARTISTS} artists through local fake Plex, Last.fm and Spotify servers."
            )
        # Own sessions: a terminal's Ctrl+C reaches only this process, which then stops the
        # children in order (SIGTERM to the cluster's main process stops it gracefully).
        children = {
            "cluster": subprocess.Popen([*manage, "qcluster"], env=env, start_new_session=True),
            "web": subprocess.Popen(
                [*manage, "runserver", options["addrport"]], env=env, start_new_session=True
            ),
        }
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            f"Serving http://{options['addrport']}/ with a job cluster of "
            f"{settings.PLAYLISTER_JOB_WORKERS} workers. Ctrl+C stops both."
        )
        try:
            while not stopping and all(p.poll() is None for p in children.values()):
                time.sleep(0.2)
        finally:
            for name, proc in children.items():
                if proc.poll() is not None:
                    continue
                if name == "cluster":
                    # Its main process only: Django-Q2 stops its workers itself.
                    proc.send_signal(signal.SIGTERM)
                else:
                    # runserver's autoreloader runs the server in a child: stop the group.
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGTERM)
            for proc in children.values():
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
            if demo is not None:
                settings.DEMO_ENV_FILE.unlink(missing_ok=True)
                demo.stop()
        failed = [name for name, p in children.items() if p.returncode not in (0, -2, -15)]
        if failed and not stopping:
            self.stderr.write(f"Stopped because {', '.join(failed)} exited.")
            sys.exit(1)
