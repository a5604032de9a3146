"""Settings for the benchmarks: the real settings plus the bench job types and raw tasks.

``bench.run`` sets the environment (a throwaway data directory and database per mode, a
unique cluster name and cache prefix) before Django starts; cluster subprocesses inherit it.
Run without it (a shell, ``manage.py``), a fresh temporary data directory is used so that a
benchmark never touches ``var/``.
"""

from __future__ import annotations

import os
import tempfile
import uuid

if "PLAYLISTER_DATA_DIR" not in os.environ:
    os.environ["PLAYLISTER_DATA_DIR"] = tempfile.mkdtemp(prefix="playlister-bench-")
_run = uuid.uuid4().hex[:8]
os.environ.setdefault("PLAYLISTER_CLUSTER_NAME", f"bench-{_run}")
os.environ.setdefault("PLAYLISTER_CACHE_PREFIX", f"bench-{_run}")

from playlister.settings import *  # noqa: E402, F403
from playlister.settings import ALLOWED_HOSTS, INSTALLED_APPS, LOGGING, Q_CLUSTER  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "bench.jobapp"]

# The memory benchmark keeps each worker alive for all its jobs (production recycles a
# worker after 500 tickets, which would hide a leak).
Q_CLUSTER = {
    **Q_CLUSTER,
    "recycle": int(os.environ.get("BENCH_Q_RECYCLE", Q_CLUSTER["recycle"])),
}

# Django-Q2 logs as "django-q", not "django_q": without this its INFO line for every task
# pushed and processed floods the benchmark's output (and costs raw and tracked alike).
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "django-q": {"level": "WARNING"}}}

# No default schedule may fire into a measurement (the hourly cache refresh would).
PLAYLISTER_SCHEDULE_DEFAULTS = False

# Django's test client sends Host: testserver.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]

# The benchmarks create a user to log in with; hashing strength is irrelevant there.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
