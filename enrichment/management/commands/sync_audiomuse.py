"""``manage.py sync_audiomuse [--dry-run] [--scheduled | --enqueue]``."""

from __future__ import annotations

from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Sync audio features (tempo, key, energy, moods) from AudioMuse-AI."
    job_type = "audiomuse-sync"
