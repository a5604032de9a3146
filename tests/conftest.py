from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches

from jobs import services, tickets
from jobs.models import JobRun, JobStatus
from tests.cluster import Cluster, wait_for


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


class Clusters:
    """The session's clusters: one shared cluster, or dedicated ones for fault tests."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.shared: Cluster | None = None
        self.dedicated: list[Cluster] = []

    def new(self, name: str = "cluster", *, wait: bool = True, **env: str) -> Cluster:
        path = self.log_dir / f"{name}-{len(self.dedicated)}.log"
        started = Cluster(log_path=path, env=env).start(wait=wait)
        self.dedicated.append(started)
        return started

    def stop_all(self) -> None:
        for running in [*self.dedicated, self.shared]:
            if running is not None:
                running.stop()
        self.dedicated, self.shared = [], None


@pytest.fixture(scope="session")
def _clusters(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Clusters]:
    clusters = Clusters(tmp_path_factory.mktemp("clusters"))
    yield clusters
    with django_db_blocker.unblock():
        clusters.stop_all()


@pytest.fixture
def cluster(_clusters: Clusters, django_db_blocker: Any) -> Cluster:
    """The shared real qcluster (2 workers) on the test database, started on first use."""
    with django_db_blocker.unblock():
        for dedicated in _clusters.dedicated:
            dedicated.stop()
        _clusters.dedicated = []
        if _clusters.shared is None:
            _clusters.shared = Cluster(log_path=_clusters.log_dir / "shared.log").start()
    return _clusters.shared


@pytest.fixture
def cluster_factory(_clusters: Clusters, django_db_blocker: Any) -> Iterator[Clusters]:
    """For tests that stop, kill or multiply clusters: no shared cluster runs meanwhile."""
    with django_db_blocker.unblock():
        _clusters.stop_all()
    tickets.clear_waiting()
    yield _clusters
    with django_db_blocker.unblock():
        _clusters.stop_all()


@pytest.fixture
def drained(cluster, transactional_db) -> Iterator[None]:
    """A running cluster with an empty queue before and after the test."""
    # The database flush between tests empties the ORM broker's queue behind the back of
    # the waiting-ticket flag (in the live store): without this, the next enqueue would
    # count on a ticket that no longer exists.
    tickets.clear_waiting()
    yield
    JobRun.objects.filter(status=JobStatus.QUEUED).update(status=JobStatus.CANCELLED)
    services.cancel_running()
    wait_for(
        lambda: not JobRun.objects.filter(status=JobStatus.RUNNING).exists(),
        timeout=15,
        what="running jobs to stop",
    )
