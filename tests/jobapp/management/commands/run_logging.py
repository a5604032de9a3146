from __future__ import annotations

from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Run the test-logging job (CLI and cron routes)."
    job_type = "test-logging"
