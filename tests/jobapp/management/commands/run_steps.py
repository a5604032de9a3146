from __future__ import annotations

from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Run the test-steps job (CLI route)."
    job_type = "test-steps"
