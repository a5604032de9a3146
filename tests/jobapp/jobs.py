"""Job types that prove the engine: registered only in the test settings.

They live in an installed app (not in a test module) because the real cluster's worker
processes must find them too.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.conf import settings

from jobs import params, registry
from jobs.cancel import NEVER, CancelToken
from jobs.context import ContextThreadPoolExecutor, record_usage
from jobs.progress import NULL_PROGRESS, Progress
from jobs.retry import TransientError


class StepsParams(params.ParamsForm):
    steps = forms.IntegerField(min_value=0, max_value=100_000, initial=10)
    step_ms = forms.IntegerField(min_value=0, max_value=60_000, initial=10)
    fail_at = forms.IntegerField(min_value=0, max_value=100_000, required=False)
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
    blocking_ms: int | None = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> StepsResult:
    """Does ``steps`` steps of ``step_ms`` each, checking for a cancel at every step.

    With a ``marker`` file it appends "start PID TIME" when it begins and "done PID TIME"
    when it completes: side effects a test can count across processes and restarts.
    """
    _mark(marker, "start")
    progress.start(steps, "Stepping")
    for i in range(steps):
        cancel.raise_if_cancelled()
        if fail_at is not None and i == fail_at:
            raise ValueError(f"step {i} failed\nsecond line that people should not see")
        if step_ms:
            cancel.wait(step_ms / 1000)
        if blocking_ms:
            time.sleep(blocking_ms / 1000)
        progress.advance(1, message=f"Step {i + 1} of {steps}", source=source or None)
    _mark(marker, "done")
    progress.finish("Done")
    return StepsResult(steps=steps)


def _mark(marker: str, event: str) -> None:
    if marker:
        with Path(marker).open("a", encoding="utf-8") as fh:
            fh.write(f"{event} {os.getpid()} {time.time()}\n")


class FlakyParams(params.ParamsForm):
    marker = forms.CharField(max_length=500)
    fail_times = forms.IntegerField(min_value=0, max_value=100, initial=2)
    permanent = params.BooleanField()
    retry_after = forms.FloatField(required=False, min_value=0, max_value=3600)


def run_flaky(
    *,
    marker: str,
    fail_times: int,
    permanent: bool = False,
    retry_after: float | None = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> dict[str, int]:
    """Fails ``fail_times`` times (transiently, or permanently), then succeeds."""
    _mark(marker, "attempt")
    attempts = Path(marker).read_text(encoding="utf-8").count("attempt ")
    if attempts <= fail_times:
        if permanent:
            raise ValueError("the input is wrong and will stay wrong")
        raise TransientError("provider answered 503", retry_after=retry_after)
    return {"attempts": attempts}


class UniqueParams(params.ParamsForm):
    steps = forms.IntegerField(min_value=0, max_value=100_000, initial=20)
    marker = forms.CharField(required=False, max_length=500)


def run_unique(
    *,
    steps: int,
    marker: str = "",
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> StepsResult:
    return run_steps(steps=steps, step_ms=50, marker=marker, progress=progress, cancel=cancel)


class BlockingParams(params.ParamsForm):
    steps = forms.IntegerField(min_value=0, max_value=100_000, initial=10)
    # Per step, a wait that does not look at the token (a call that cannot be cut short).
    blocking_ms = forms.IntegerField(min_value=0, max_value=60_000, initial=1000)


def run_blocking(
    *,
    steps: int,
    blocking_ms: int,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> StepsResult:
    return run_steps(
        steps=steps, step_ms=0, blocking_ms=blocking_ms, progress=progress, cancel=cancel
    )


class ProviderParams(params.ParamsForm):
    url = forms.CharField(max_length=200)
    calls = forms.IntegerField(min_value=1, max_value=1000, initial=5)
    rate = forms.FloatField(min_value=0.1, max_value=1000, initial=5)
    marker = forms.CharField(required=False, max_length=500)


def run_provider(
    *,
    url: str,
    calls: int,
    rate: float,
    marker: str = "",
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> dict[str, int]:
    """``calls`` GETs of ``url`` through the real provider session: each waits in the rate
    limit shared by every job of this type, in the HTTP call itself, and — when the server
    answers 429 or 5xx — in a backoff or a ``Retry-After``."""
    from enrichment.http import ProviderSession
    from enrichment.ratelimit import RateLimiter

    _mark(marker, "start")
    session = ProviderSession(
        provider="Test provider",
        timeout=5,
        max_attempts=10,
        rate_limiter=RateLimiter("test-provider", rate),
        cancel=cancel,
        backoff_base=0.2,
        backoff_cap=1.0,
    )
    try:
        progress.start(calls, "Calling")
        for i in range(calls):
            cancel.raise_if_cancelled()
            session.get_json(f"{url}/item/{i}")
            progress.advance(1)
    finally:
        session.close()
    _mark(marker, "done")
    return {"calls": calls, "retries": session.retries}


class ResumableParams(params.ParamsForm):
    steps = forms.IntegerField(min_value=0, max_value=100_000, initial=10)
    step_ms = forms.IntegerField(min_value=0, max_value=60_000, initial=10)
    marker = forms.CharField(required=False, max_length=500)
    # The first attempt to reach this step fails transiently (the queue retries it).
    flaky_at = forms.IntegerField(min_value=0, max_value=100_000, required=False)


def run_resumable(
    *,
    steps: int,
    step_ms: int,
    marker: str = "",
    flaky_at: int | None = None,
    cursor: object = None,
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> StepsResult:
    """``run_steps`` that checkpoints after every step (the cursor: the last step done) and
    continues after it; with a ``marker`` file it appends "step N PID TIME" per step done."""
    first = cursor + 1 if isinstance(cursor, int) else 0
    progress.start(steps, "Stepping")
    for i in range(first, steps):
        cancel.raise_if_cancelled()
        if step_ms:
            cancel.wait(step_ms / 1000)
        if i == flaky_at and "flaky" not in Path(marker).read_text(encoding="utf-8"):
            _mark(marker, "flaky")
            raise TransientError(f"step {i} failed for now")
        _mark(marker, f"step {i}")
        progress.advance(1, message=f"Step {i + 1} of {steps}")
        progress.checkpoint(i)
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

# Two types that share one concurrency lane (queue control, jobs.control).
for _name in ("test-lane-a", "test-lane-b"):
    registry.register(
        registry.JobType(
            name=_name,
            func=run_steps,
            label=f"Test {_name[5:]}",
            params=StepsParams,
            lane="test-lane",
        )
    )

registry.register(
    registry.JobType(
        name="test-flaky",
        func=run_flaky,
        label="Test flaky",
        params=FlakyParams,
        max_attempts=3,
    )
)

registry.register(
    registry.JobType(
        name="test-blocking", func=run_blocking, label="Test blocking", params=BlockingParams
    )
)

registry.register(
    registry.JobType(
        name="test-provider",
        func=run_provider,
        label="Test provider",
        params=ProviderParams,
        description="Calls a fake provider through the rate limit, retries and backoff.",
    )
)

registry.register(
    registry.JobType(
        name="test-unique",
        func=run_unique,
        label="Test unique",
        params=UniqueParams,
        dedupe=lambda params: "test-unique",
    )
)


class LoggingParams(params.ParamsForm):
    lines = forms.IntegerField(min_value=0, max_value=100_000, initial=3)
    # Each of this many pool threads logs one line (ContextThreadPoolExecutor).
    threads = forms.IntegerField(min_value=0, max_value=8, initial=0)
    # Keeps running this long after logging (a cancel ends it sooner).
    hold_ms = forms.IntegerField(min_value=0, max_value=120_000, initial=0)
    secrets = params.BooleanField()
    fail = params.BooleanField()
    # Lines of this many characters (padding after the number).
    width = forms.IntegerField(min_value=0, max_value=20_000, initial=0)
    # Counts a request to this external service per line (and an error when it fails).
    service = forms.CharField(required=False, max_length=50)


def run_logging(
    *,
    lines: int,
    threads: int,
    hold_ms: int,
    secrets: bool = False,
    fail: bool = False,
    width: int = 0,
    service: str = "",
    progress: Progress = NULL_PROGRESS,
    cancel: CancelToken = NEVER,
) -> dict[str, int]:
    """Logs ``lines`` lines from its own thread and one from each of ``threads`` pool threads,
    optionally lines carrying secrets, then holds until ``hold_ms`` passed or it is cancelled."""
    log = logging.getLogger("tests.jobapp.logging")
    progress.start(lines)
    for i in range(lines):
        log.info("line %d of %d%s", i + 1, lines, "." * max(0, width - 20))
        if service:
            record_usage(service, requests=1, wait_seconds=0.25)
        progress.advance(1)

    def in_pool(n: int) -> None:
        log.info("from pool thread %d", n)
        if service:
            record_usage(service, requests=1)

    if threads:
        with ContextThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(in_pool, range(threads)))
    if secrets:
        log.warning("calling https://api.example.invalid/2.0/?api_key=%s&q=x", "k3y-in-a-url")
        log.info("sending Authorization: Bearer %s", "bearer-value-123")
        log.info("signing with %s", settings.SECRET_KEY)
    log.info("holding")
    if hold_ms:
        cancel.wait(hold_ms / 1000)
        cancel.raise_if_cancelled()
    if fail:
        if service:
            record_usage(service, errors=1)
        raise ValueError("failed on purpose")
    return {"lines": lines}


registry.register(
    registry.JobType(
        name="test-logging",
        func=run_logging,
        label="Test logging",
        params=LoggingParams,
        description="Logs lines from its thread and a pool's, then holds.",
    )
)
registry.register(
    registry.JobType(
        name="test-resumable",
        func=run_resumable,
        label="Test resumable",
        params=ResumableParams,
        description="Steps that checkpoint and resume.",
    )
)
