from __future__ import annotations

from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Generate every enabled custom genre/mood playlist."
    job_type = "custom-playlists"
