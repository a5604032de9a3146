"""``make run``: the web server and a job cluster together; Ctrl+C stops both."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import re
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http.request import validate_host

from jobs.cli import OneLineCommand, int_between

if TYPE_CHECKING:
    from pathlib import Path
    from types import FrameType

    from enrichment.demo import Demo

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_HOSTNAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")


def host_address(text: str) -> str:
    """An argparse ``type``: an IP address or a host name (what runserver can bind to)."""
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        if len(text) <= 253 and _HOSTNAME.fullmatch(text):
            return text
    raise argparse.ArgumentTypeError(f"{text[:80]!r} is neither an IP address nor a host name")


def add_address_arguments(parser: argparse.ArgumentParser) -> None:
    """``--host`` and ``--port``: where ``make run`` serves (``make run HOST=… PORT=…``)."""
    parser.add_argument(
        "--host", type=host_address, default=DEFAULT_HOST, help="address to listen on"
    )
    parser.add_argument(
        "--port", type=int_between(1, 65_535), default=DEFAULT_PORT, help="port to listen on"
    )


def _browser_host(host: str) -> str:
    """The host a browser on this machine names to reach a server listening on ``host``."""
    with contextlib.suppress(ValueError):
        address = ipaddress.ip_address(host)
        if address.is_unspecified:  # every interface: this machine's loopback is one of them
            host = "127.0.0.1" if address.version == 4 else "::1"
    return f"[{host}]" if ":" in host else host


def browser_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server listening on ``host:port``."""
    return f"http://{_browser_host(host)}:{port}/"


def shown_path(path: Path) -> Path:
    """``path`` as a person at the project's root would type it."""
    return path.relative_to(settings.BASE_DIR) if path.is_relative_to(settings.BASE_DIR) else path


class Command(OneLineCommand):
    help = "Serve the app (runserver) with a Django-Q2 cluster beside it; Ctrl+C stops both."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_address_arguments(parser)

    def _say_demo(self, demo: Demo) -> None:
        from enrichment.demo import DEMO_ARTISTS

        self.stdout.write(
            f"No Plex server configured (PLAYLISTER_PLEX_URL): serving a demo library of "
            f"{DEMO_ARTISTS} artists through local fake servers:"
        )
        self.stdout.write("\n".join(demo.listing()))
        self.stdout.write(
            f"Their settings are in {shown_path(settings.DEMO_ENV_FILE)} while this runs: "
            "manage.py commands in another terminal use them too "
            "(.venv/bin/python manage.py warm_cache)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        env = dict(os.environ)
        host, port = options["host"], options["port"]
        addrport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        demo = None
        if not settings.PLAYLISTER_PLEX_URL:
            from enrichment.demo import demo_settings, start_demo, write_env_file

            demo = start_demo()
            env.update(demo_settings(demo))
            write_env_file(settings.DEMO_ENV_FILE, demo_settings(demo))
            self._say_demo(demo)
        # Own sessions: a terminal's Ctrl+C reaches only this process, which then stops the
        # children in order (SIGTERM to the cluster's main process stops it gracefully).
        children = {
            "cluster": subprocess.Popen([*manage, "qcluster"], env=env, start_new_session=True),
            "web": subprocess.Popen(
                [*manage, "runserver", addrport], env=env, start_new_session=True
            ),
        }
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            f"Serving {browser_url(host, port)} with a job cluster of "
            f"{settings.PLAYLISTER_JOB_WORKERS} workers. Ctrl+C stops both."
        )
        if not validate_host(_browser_host(host), settings.ALLOWED_HOSTS):
            self.stdout.write(
                f"Note: requests for {host} are refused until PLAYLISTER_ALLOWED_HOSTS names it."
            )
        self.stdout.flush()  # a pipe (make run | tee) sees the banner now, not at the end
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
