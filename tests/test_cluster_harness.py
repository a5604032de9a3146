"""The test harness itself: a cluster started by a test process dies with it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid

import pytest

from tests.cluster import BASE_DIR, processes, subprocess_env, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

STARTER = """
import sys, threading
import django
django.setup()
from pathlib import Path
from tests.cluster import Cluster
cluster = Cluster(log_path=Path(sys.argv[1])).start(wait=False)
print(cluster.proc.pid, flush=True)
threading.Event().wait()
"""


def _tree(group: int) -> set[int]:
    return {p.pid for p in processes() if p.group == group and p.alive}


def test_a_cluster_dies_with_the_test_process_that_started_it(tmp_path):
    # A test run that is killed outright: a process starts a cluster, then gets SIGKILLed.
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(tmp_path / "cluster.log")],
        cwd=BASE_DIR,
        # Its own cluster name: it must never take this run's tickets.
        env=subprocess_env(PLAYLISTER_CLUSTER_NAME=f"orphan-{uuid.uuid4().hex[:8]}"),
        stdout=subprocess.PIPE,
        text=True,
    )
    main = int(starter.stdout.readline())
    try:
        # main, sentinel, monitor, pusher and the two workers
        wait_for(lambda: len(_tree(main)) >= 6, timeout=30, what="the whole cluster to start")
        starter.kill()
        starter.wait(10)
        wait_for(lambda: not _tree(main), timeout=5, what="the orphaned cluster to be gone")
    finally:
        starter.kill()
        starter.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(main, signal.SIGKILL)
