from __future__ import annotations

from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Run the test-blocking job: steps that do not look at the cancel token."
    job_type = "test-blocking"
