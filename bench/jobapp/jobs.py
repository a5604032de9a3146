"""Job types for the benchmarks, registered only under ``bench.settings``.

They live in an installed app because the cluster's worker processes must find them too.
"""

from __future__ import annotations

import json
import time

from django import forms

from bench.jobapp.marks import mark
from jobs import params, registry
from jobs.cancel import NEVER, CancelToken
from jobs.progress import NULL_PROGRESS, Progress


def run_noop(*, progress: Progress = NULL_PROGRESS, cancel: CancelToken = NEVER) -> None:
    """Nothing at all: what remains is the job system's own cost."""


class StampParams(params.ParamsForm):
    t0 = forms.FloatField(
        min_value=0, max_value=1e12, help_text="time.time() just before the enqueue"
    )


def run_stamp(
    *, t0: float, progress: Progress = NULL_PROGRESS, cancel: CancelToken = NEVER
) -> None:
    """Records when the job body started, for the enqueue → start latency."""
    mark("start", repr(t0), repr(time.time()))


class StepsParams(params.ParamsForm):
    steps = forms.IntegerField(min_value=0, max_value=1_000_000, initial=10)
    step_ms = forms.IntegerField(min_value=0, max_value=60_000, initial=0)
    tag = forms.CharField(required=False, max_length=100)


def run_steps(
    *,
    steps: int,
    step_ms: int,
    tag: str = "",
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> dict[str, int]:
    """``steps`` steps of ``step_ms`` each, reporting progress and checking for a cancel at
    every step. With a ``tag`` it records when each step was done (for staleness)."""
    done_at: list[float] = []
    progress.start(steps, "Stepping")
    for i in range(steps):
        cancel.raise_if_cancelled()
        if step_ms:
            cancel.wait(step_ms / 1000)
        progress.advance(1, message=f"Step {i + 1} of {steps}")
        if tag:
            done_at.append(time.time())
    progress.finish("Done")
    if tag:
        mark("steps", tag, json.dumps(done_at, separators=(",", ":")))
    return {"steps": steps}


registry.register(registry.JobType(name="bench-noop", func=run_noop, label="Benchmark no-op"))
registry.register(
    registry.JobType(
        name="bench-stamp", func=run_stamp, label="Benchmark start stamp", params=StampParams
    )
)
registry.register(
    registry.JobType(
        name="bench-steps", func=run_steps, label="Benchmark steps", params=StepsParams
    )
)
