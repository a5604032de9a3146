from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches

from tests.cluster import Cluster


def pytest_report_header() -> str:
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "redis" if settings.REDIS_URL else "orm"
    return f"playlister mode: database={db} broker={broker}"


@pytest.fixture(scope="session", autouse=True)
def _clean_caches() -> Iterator[None]:
    # File caches survive between runs; Redis keys are namespaced per run by tests.settings.
    for alias in ("default", "live"):
        location = settings.CACHES[alias].get("LOCATION", "")
        if settings.CACHES[alias]["BACKEND"].endswith("FileBasedCache"):
            shutil.rmtree(location, ignore_errors=True)
    yield
    for alias in ("live",):
        caches[alias].clear()


@pytest.fixture(scope="session")
def cluster(
    django_db_setup: None,
    django_db_blocker: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    """One real qcluster (2 workers) for the session, on the test database."""
    log_dir: Path = tmp_path_factory.mktemp("cluster")
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        running = Cluster(log_path=log_dir / "qcluster.log").start()
    yield running
    running.stop()
