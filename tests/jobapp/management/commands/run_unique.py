from __future__ import annotations

from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Run the test-unique job (one active at a time: its dedupe key is fixed)."
    job_type = "test-unique"
