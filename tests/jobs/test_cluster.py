"""A worker's question "is my cluster stopping?" (``jobs.cluster.cluster_is_stopping``),
read from the status Django-Q2's sentinel saves in the broker, as a worker reads it."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import pytest
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.conf import Conf
from django_q.signing import SignedPackage
from django_q.status import Stat, Status

from jobs import cluster, tickets

if TYPE_CHECKING:
    from collections.abc import Iterator

# The embedded broker keeps the status in Django's cache, the scaled one in Redis.
pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


_saved: list[str] = []


@pytest.fixture(autouse=True)
def _forget_saved_statuses() -> Iterator[None]:
    # The broker outlives a test: a status left behind would answer for the next one.
    yield
    broker = tickets.broker()
    for key in _saved:
        if isinstance(broker, RedisBroker):
            broker.connection.delete(key)
        else:
            broker.cache.delete(key)
    _saved.clear()


@pytest.fixture
def as_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as a worker whose sentinel is its parent."""
    monkeypatch.setattr(cluster, "_worker_pid", os.getpid())
    monkeypatch.setattr(cluster, "_answer", None)
    monkeypatch.setattr(cluster, "_own_key", None)


def _save_status(cluster_id: str, status: str, *, sentinel: int | None = None) -> None:
    stat = Status(pid=os.getppid(), cluster_id=cluster_id)
    stat.sentinel = os.getppid() if sentinel is None else sentinel
    stat.status = status
    key = Stat.get_key(cluster_id)
    _saved.append(key)
    tickets.broker().set_stat(key, SignedPackage.dumps(stat), 30)


def test_a_worker_sees_its_cluster_begin_to_stop_within_50_ms(as_worker: None) -> None:
    ours, other = uuid.uuid4().hex, uuid.uuid4().hex
    # Another cluster of the same deployment stopping says nothing about this one.
    _save_status(other, Conf.STOPPING, sentinel=os.getppid() + 100_000)
    _save_status(ours, Conf.WORKING)
    clock = Clock()
    assert cluster.cluster_is_stopping(clock=clock) is False

    _save_status(ours, Conf.STOPPING)
    clock.now += 0.01
    # A stream of short jobs does not read the status at every claim...
    assert cluster.cluster_is_stopping(clock=clock) is False
    clock.now += cluster.STOPPING_FRESH
    # ...but no answer is older than STOPPING_FRESH (nor remembered across a long job).
    assert cluster.cluster_is_stopping(clock=clock) is True
    clock.now += 5.0
    assert cluster.cluster_is_stopping(clock=clock) is True


def test_a_restarted_cluster_is_found_again(as_worker: None) -> None:
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    _save_status(first, Conf.WORKING)
    clock = Clock()
    assert cluster.cluster_is_stopping(clock=clock) is False
    # The key remembered now names a status saved by another sentinel: read them all again.
    _save_status(first, Conf.WORKING, sentinel=os.getppid() + 100_000)
    _save_status(second, Conf.STOPPED)
    clock.now += 1.0
    assert cluster.cluster_is_stopping(clock=clock) is True


def test_a_process_that_is_no_worker_is_never_stopping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "_worker_pid", None)
    _save_status(uuid.uuid4().hex, Conf.STOPPING)
    assert cluster.cluster_is_stopping() is False
