"""The warm commands' shared flag: ``--force`` is ``--no-skip-cached``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobs.cli import JobCommand

if TYPE_CHECKING:
    from argparse import ArgumentParser


class WarmCommand(JobCommand):
    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--force", action="store_true", help="Fetch cached entries again (--no-skip-cached)."
        )

    def get_params(self, options: dict[str, Any]) -> dict[str, Any]:
        params = super().get_params(options)
        if options["force"]:
            params["skip_cached"] = False
        return params
