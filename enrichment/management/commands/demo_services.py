"""``manage.py demo_services``: every fake service (Plex, Last.fm, Spotify, AudioMuse-AI)."""

from __future__ import annotations

import shlex
import threading
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError

from enrichment.demo import DEMO_ARTISTS, DEMO_SEED, demo_settings, start_demo
from jobs.cli import EXIT_USAGE, OneLineCommand, float_between, int_between

if TYPE_CHECKING:
    from argparse import ArgumentParser


class Command(OneLineCommand):
    help = (
        "Serve a generated demo library through fake Plex, Last.fm, Spotify and AudioMuse-AI "
        "servers."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--artists",
            type=int_between(1, 100_000),
            default=DEMO_ARTISTS,
            help=f"Artists in the generated library, 1 to 100,000 (default: {DEMO_ARTISTS}).",
        )
        parser.add_argument(
            "--seed",
            type=int_between(0, 2**63 - 1),
            default=DEMO_SEED,
            help="The generated library's random seed: the same seed, the same library.",
        )
        parser.add_argument(
            "--latency", type=float_between(0, 60), default=0.02, help="seconds per request"
        )
        parser.add_argument(
            "--port",
            type=int_between(0, 65_535 - 3),
            default=32400,
            help="Plex's port (0: any free one); the other fakes take the next three",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            demo = start_demo(
                artists=options["artists"],
                seed=options["seed"],
                latency=options["latency"],
                port=options["port"],
            )
        except OSError as exc:  # the port is taken, say
            raise CommandError(
                f"cannot serve on port {options['port']}: {exc.strerror or exc}",
                returncode=EXIT_USAGE,
            ) from None
        try:
            self.stdout.write(
                f"Demo library of {options['artists']} artists served by local fake servers:"
            )
            self.stdout.write("\n".join(demo.listing()))
            self.stdout.write(
                "Point Playlister at them (these secrets are generated for the fakes and valid "
                "only here):"
            )
            for name, value in demo_settings(demo).items():
                self.stdout.write(f"export {name}={shlex.quote(value)}")
            self.stdout.write("Ctrl+C stops the servers.")
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            demo.stop()
