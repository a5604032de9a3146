"""Job types that prove the engine: registered only in the test settings.

They live in an installed app (not in a test module) because the real cluster's worker
processes must find them too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from django import forms

from jobs import registry
from jobs.cancel import NEVER, CancelToken
from jobs.progress import NULL_PROGRESS, Progress


class StepsParams(forms.Form):
    steps = forms.IntegerField(min_value=0, max_value=100_000, initial=10)
    step_ms = forms.IntegerField(min_value=0, max_value=60_000, initial=10)
    fail_at = forms.IntegerField(min_value=0, required=False)
    # Each run appends one line here: lets a test count side effects across processes.
    marker = forms.CharField(required=False, max_length=500)
    source = forms.CharField(required=False, max_length=50)


@dataclass
class StepsResult:
    steps: int


def run_steps(
    *,
    steps: int,
    step_ms: int,
    fail_at: int | None = None,
    marker: str = "",
    source: str = "",
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> StepsResult:
    """Does ``steps`` steps of ``step_ms`` each, checking for a cancel at every step."""
    progress.start(steps, "Stepping")
    for i in range(steps):
        cancel.raise_if_cancelled()
        if fail_at is not None and i == fail_at:
            raise ValueError(f"step {i} failed\nsecond line that people should not see")
        if step_ms:
            cancel.wait(step_ms / 1000)
        progress.advance(1, message=f"Step {i + 1} of {steps}", source=source or None)
    if marker:
        with Path(marker).open("a", encoding="utf-8") as fh:
            fh.write(f"{time.time()}\n")
    progress.finish("Done")
    return StepsResult(steps=steps)


registry.register(
    registry.JobType(
        name="test-steps",
        func=run_steps,
        label="Test steps",
        params=StepsParams,
        description="Sleeps through a number of steps, reporting progress.",
    )
)
