from __future__ import annotations

from enrichment.management.commands._warm import WarmCommand


class Command(WarmCommand):
    help = "Warm the artist genre cache from Plex, Last.fm and Spotify."
    job_type = "cache-warm"
