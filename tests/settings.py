"""Settings for the test suite: the real settings plus a job type app for the engine tests.

The mode follows the environment like the app itself: nothing set → SQLite + ORM broker;
``DATABASE_URL`` + ``REDIS_URL`` → PostgreSQL + Redis. Each run gets its own cluster name and
cache prefix so queues and keys of an earlier run never leak in; cluster subprocesses inherit
them through the environment.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

_base = Path(__file__).resolve().parent.parent
os.environ.setdefault("PLAYLISTER_DATA_DIR", str(_base / "var" / "test"))
_run = uuid.uuid4().hex[:8]
os.environ.setdefault("PLAYLISTER_CLUSTER_NAME", f"test-{_run}")
os.environ.setdefault("PLAYLISTER_CACHE_PREFIX", f"test-{_run}")
# A fast heartbeat keeps rescue-related tests short; production uses 30 s.
os.environ.setdefault("PLAYLISTER_JOB_HEARTBEAT", "30")
os.environ.setdefault("PLAYLISTER_BROKER_POLL", "0.05")

from playlister.settings import *  # noqa: E402, F403
from playlister.settings import INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "tests.jobapp"]

# The default schedules stay out of the test database: a cluster of the suite must never fire
# the hourly cache refresh (or any other) in the middle of a test. Schedule tests install them.
PLAYLISTER_SCHEDULE_DEFAULTS = False

# Fast hashing: tests create users; security of test passwords is irrelevant.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
