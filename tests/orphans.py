"""A test cluster dies with the test process that started it.

``tests.cluster.Cluster`` starts ``manage.py qcluster`` in a session of its own with
``PLAYLISTER_TEST_PARENT`` set to its own pid. Were that process killed (a test run stopped
with SIGKILL, an OOM kill, a CI timeout), nothing would stop the cluster: its workers would
take the next run's tickets and hold the test database open. So the cluster's main process
watches its parent, and once the parent is gone it SIGKILLs its own process group — main,
sentinel, monitor, pusher and workers at once. A living test stops its cluster the proper
way (SIGTERM to the main process only, docs/design.md); an orphan has nobody waiting for a
graceful stop.

A thread polling ``getppid()`` rather than ``PR_SET_PDEATHSIG``: the kernel's parent-death
signal reaches only the main process (not the tree Django-Q2 forks under it) and fires when
the *thread* that started it ends, which a test starting a cluster from a helper thread
would trip.
"""

from __future__ import annotations

import os
import signal
import threading
import time

PARENT = "PLAYLISTER_TEST_PARENT"
CHECK_EVERY = 0.2


def guard_from_environment() -> None:
    """In the process a test harness started (see the module docstring), watch the parent."""
    parent = os.environ.get(PARENT, "")
    # Only that process leads its own session: the cluster's forked processes inherit the
    # variable (not the thread) and must not watch their own parents.
    if not parent.isdigit() or os.getsid(0) != os.getpid():
        return
    threading.Thread(target=_watch, args=(int(parent),), name="orphan-guard", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(CHECK_EVERY)
    os.killpg(os.getpgrp(), signal.SIGKILL)
