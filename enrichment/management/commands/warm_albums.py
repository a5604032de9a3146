from __future__ import annotations

from enrichment.management.commands._warm import WarmCommand


class Command(WarmCommand):
    help = "Warm the album genre cache from Plex, Last.fm and the artists' genres."
    job_type = "cache-albums"
