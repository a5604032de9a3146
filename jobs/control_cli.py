"""``manage.py jobs pause|unpause|limit|queue``: queue control from a terminal (``jobs.control``).

``pause [NAME]`` and ``unpause [NAME]`` hold and release the whole queue (no NAME) or a job
type or a lane; ``limit LANE N|none`` caps a lane; ``queue`` shows all of it. (``unpause``,
not ``resume``: ``jobs resume ID`` resumes a run from its checkpoint.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError
from django.utils import timezone

from jobs import control
from jobs.terminal import columns

if TYPE_CHECKING:
    from argparse import _SubParsersAction

    from django.core.management.base import OutputWrapper

# Who a pause from a terminal is recorded as.
CLI_USER = "cli"


def _name(text: str) -> str:
    # A name is a job type's or a lane's: short; anything longer is refused unread.
    if len(text) > 64:
        raise ValueError(text)
    return text


def add_parsers(sub: _SubParsersAction[Any]) -> None:
    pause = sub.add_parser(
        "pause", help="Hold new claims of the whole queue, or of a job type or lane."
    )
    pause.add_argument("name", nargs="?", type=_name, metavar="TYPE", help="Default: the queue.")
    unpause = sub.add_parser("unpause", help="Lift a pause; the waiting jobs start.")
    unpause.add_argument("name", nargs="?", type=_name, metavar="TYPE", help="Default: the queue.")
    limit = sub.add_parser("limit", help="Run at most N jobs of a lane at once.")
    limit.add_argument("lane", type=_name, metavar="LANE", help="A lane (`jobs queue`).")
    limit.add_argument(
        "limit", metavar="N", help=f"1 to {control.MAX_LIMIT}, or 'none' for no limit."
    )
    sub.add_parser("queue", help="Pauses, lanes and their limits.")


def pause_line(state: control.QueueState) -> str | None:
    """ "Queue paused by cli at 14:02", or None."""
    if state.queue is None:
        return None
    at = timezone.localtime(state.queue.paused_at).strftime("%H:%M")
    return f"Queue paused by {state.queue.paused_by} at {at}"


class QueueControlCommands:
    """The ``jobs`` command's queue-control actions."""

    stdout: OutputWrapper

    def _control(self, action: Any, **kwargs: Any) -> Any:
        from jobs.cli import EXIT_USAGE

        try:
            return action(**kwargs)
        except control.ControlError as exc:
            raise CommandError(str(exc), returncode=EXIT_USAGE) from None

    def do_pause(self, options: dict[str, Any]) -> None:
        row = self._control(control.pause, name=options["name"], by=CLI_USER)
        what = "Queue" if row.name == control.QUEUE else row.name
        at = timezone.localtime(row.paused_at).strftime("%H:%M")
        self.stdout.write(
            f"{what} paused by {row.paused_by} at {at}: running jobs finish, queued ones wait."
        )

    def do_unpause(self, options: dict[str, Any]) -> None:
        row = self._control(control.resume, name=options["name"])
        what = "Queue" if (options["name"] or control.QUEUE) == control.QUEUE else options["name"]
        self.stdout.write(f"{what} running." if row is not None else f"{what} was not paused.")

    def do_limit(self, options: dict[str, Any]) -> None:
        text = options["limit"].strip().lower()
        limit: int | None
        if text == "none":
            limit = None
        elif text.isdigit() and len(text) <= 6:
            limit = int(text)
        else:
            limit = -1  # refused by the service with the message people need
        row = self._control(control.set_limit, lane=options["lane"], limit=limit)
        self.stdout.write(
            f"{row.name}: at most {row.max_running} at once."
            if row.max_running is not None
            else f"{row.name}: no limit."
        )

    def do_queue(self, options: dict[str, Any]) -> None:
        state = control.queue_state()
        self.stdout.write(pause_line(state) or "Queue running.")
        rows = [
            [
                lane.name,
                ", ".join(lane.types),
                "-" if lane.limit is None else str(lane.limit),
                str(lane.running),
                "paused" if lane.paused else "",
            ]
            for lane in state.lanes
        ]
        for line in columns(["LANE", "TYPES", "LIMIT", "RUNNING", ""], rows, right={2, 3}):
            self.stdout.write(line)
        for name, paused in sorted(state.paused.items()):
            if name not in {lane.name for lane in state.lanes}:
                at = timezone.localtime(paused.paused_at).strftime("%H:%M")
                self.stdout.write(f"{name} paused by {paused.paused_by} at {at}")
