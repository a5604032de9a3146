"""``manage.py demo_services``: every fake service (Plex, Last.fm, Spotify, AudioMuse-AI)."""

from __future__ import annotations

import shlex
import threading
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand

from enrichment.demo import DEMO_ARTISTS, DEMO_SEED, demo_settings, start_demo

if TYPE_CHECKING:
    from argparse import ArgumentParser


class Command(BaseCommand):
    help = "Serve a generated demo library through fake Plex, Last.fm and Spotify servers."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--artists", type=int, default=DEMO_ARTISTS)
        parser.add_argument("--seed", type=int, default=DEMO_SEED)
        parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
        parser.add_argument(
            "--port",
            type=int,
            default=32400,
            help="Plex's port; the other fakes follow",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        demo = start_demo(
            artists=options["artists"],
            seed=options["seed"],
            latency=options["latency"],
            port=options["port"],
        )
        try:
            self.stdout.write(
                f"Demo library of {options['artists']} artists served. Point Playlister at it "
                "(these secrets are generated for the fakes and valid only here):"
            )
            for name, value in demo_settings(demo).items():
                self.stdout.write(f"export {name}={shlex.quote(value)}")
            self.stdout.write("Ctrl+C stops the servers.")
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            demo.stop()
