from __future__ import annotations

from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Refresh cache entries that are due, hot ones first (at most --limit)."
    job_type = "cache-refresh"
