"""The live store: progress and cancel flags shared by every process of a deployment.

It is Django's ``live`` cache (Redis in the scaled mode, a file cache on one machine).
Readers take it first and fall back to the ``job_runs`` row, so losing it (a Redis flush, a
cache cull) only costs freshness, never correctness.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import caches

if TYPE_CHECKING:
    from datetime import datetime

    from django.core.cache.backends.base import BaseCache

logger = logging.getLogger(__name__)

# A crashed worker never deletes its keys; they expire on their own.
_TTL_SECONDS = 24 * 3600


@dataclass
class LiveProgress:
    current: int
    total: int | None
    message: str
    eta_seconds: float | None
    source_counts: dict[str, int]
    updated_at: float  # epoch seconds

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cache() -> BaseCache:
    return caches["live"]


def _progress_key(job_id: int) -> str:
    return f"job:{job_id}:progress"


def _cancel_key(job_id: int) -> str:
    return f"job:{job_id}:cancel"


def publish_progress(job_id: int, progress: LiveProgress) -> None:
    try:
        _cache().set(_progress_key(job_id), progress.as_dict(), _TTL_SECONDS)
    except Exception:
        # Live progress is best effort; the row still gets written.
        logger.warning("could not publish live progress of job %s", job_id, exc_info=True)


def read_progress(job_id: int) -> LiveProgress | None:
    try:
        data = _cache().get(_progress_key(job_id))
    except Exception:
        logger.warning("could not read live progress of job %s", job_id, exc_info=True)
        return None
    if not isinstance(data, dict):
        return None
    try:
        return LiveProgress(**data)
    except TypeError:
        return None


def read_progress_many(job_ids: list[int]) -> dict[int, LiveProgress]:
    """Live progress of several jobs in one round trip."""
    if not job_ids:
        return {}
    keys = {_progress_key(job_id): job_id for job_id in job_ids}
    try:
        found = _cache().get_many(list(keys))
    except Exception:
        logger.warning("could not read live progress", exc_info=True)
        return {}
    result: dict[int, LiveProgress] = {}
    for key, data in found.items():
        if isinstance(data, dict):
            try:
                result[keys[key]] = LiveProgress(**data)
            except TypeError:
                continue
    return result


def _run_key(run: datetime | None) -> str:
    return run.isoformat() if run is not None else "*"


def request_cancel(job_id: int, run: datetime | None = None) -> None:
    """Flag the run of ``job_id`` that started at ``run`` (None: whichever run it is)."""
    try:
        _cache().set(_cancel_key(job_id), _run_key(run), _TTL_SECONDS)
    except Exception:
        # The row's cancel_requested_at is authoritative; the reporter polls it too.
        logger.warning("could not set the live cancel flag of job %s", job_id, exc_info=True)


def cancel_requested(job_id: int, run: datetime | None = None) -> bool:
    """Is the run of ``job_id`` that started at ``run`` flagged? A flag left by another run
    (one that ended before the flag landed, or an id reused after a reset) is not this one's."""
    try:
        flag = _cache().get(_cancel_key(job_id))
    except Exception:
        return False
    if not isinstance(flag, str):
        return False
    return flag == "*" or run is None or flag == _run_key(run)


def clear(job_id: int) -> None:
    try:
        _cache().delete_many([_progress_key(job_id), _cancel_key(job_id)])
    except Exception:
        logger.warning("could not clear the live state of job %s", job_id, exc_info=True)
