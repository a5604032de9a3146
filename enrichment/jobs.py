"""The enrichment job types. One spec each drives validation, the API, the dashboard's start
forms and the management commands."""

from __future__ import annotations

from django import forms
from django.conf import settings

from enrichment import present
from enrichment.audiomuse_sync import sync_audio_features
from enrichment.refresh import refresh_cache
from enrichment.warm import warm_album_cache, warm_artist_cache
from jobs import params, registry, schedules
from jobs.models import Priority

# Far beyond any music library, and within every integer column and SQL LIMIT.
MAX_ITEMS = 10_000_000


class WarmParams(params.ParamsForm):
    concurrency = forms.IntegerField(
        min_value=1, max_value=16, initial=2, help_text="Provider requests in parallel."
    )
    skip_cached = params.BooleanField(
        initial=True, help_text="Skip entries that are cached and fresh."
    )
    dry_run = params.BooleanField(help_text="Read and report; write nothing.")
    limit = forms.IntegerField(
        min_value=1,
        max_value=MAX_ITEMS,
        required=False,
        help_text="At most this many items (default: all).",
    )


class RefreshParams(params.ParamsForm):
    limit = forms.IntegerField(
        min_value=1, max_value=100_000, initial=200, help_text="At most this many entries."
    )
    concurrency = forms.IntegerField(
        min_value=1, max_value=16, initial=2, help_text="Provider requests in parallel."
    )
    dry_run = params.BooleanField(help_text="Read and report; write nothing.")


# The three warmers share the providers' rate limits: one of each at a time is plenty. They
# share a concurrency lane, so an admin can let at most N of them run at once (jobs.control).
CACHE_LANE = "cache"

registry.register(
    registry.JobType(
        name="cache-warm",
        func=warm_artist_cache,
        label="Warm the artist cache",
        description="Genres for every artist: Plex tags, then Last.fm, then Spotify.",
        params=WarmParams,
        dedupe=lambda params: "cache-warm",
        group="Library data",
        rank=10,
        lane=CACHE_LANE,
        present=lambda result: present.present_warm(result, present.ARTISTS),
    )
)
registry.register(
    registry.JobType(
        name="cache-albums",
        func=warm_album_cache,
        label="Warm the album cache",
        description="Genres for every album: Plex tags, Last.fm album tags, the artist's.",
        params=WarmParams,
        dedupe=lambda params: "cache-albums",
        group="Library data",
        rank=11,
        lane=CACHE_LANE,
        present=lambda result: present.present_warm(result, present.ALBUMS),
    )
)
registry.register(
    registry.JobType(
        name="cache-refresh",
        func=refresh_cache,
        label="Refresh the caches",
        description="Re-fetch entries that are due, most used first.",
        params=RefreshParams,
        priority=Priority.BACKGROUND,
        dedupe=lambda params: "cache-refresh",
        group="Library data",
        rank=12,
        lane=CACHE_LANE,
        present=lambda result: present.present_warm(result, present.ENTRIES),
    )
)


class AudioMuseSyncParams(params.ParamsForm):
    dry_run = params.BooleanField(help_text="Read AudioMuse-AI's index and report; write nothing.")


registry.register(
    registry.JobType(
        name="audiomuse-sync",
        func=sync_audio_features,
        label="Sync AudioMuse-AI features",
        description=(
            "Audio features (tempo, key, energy, moods) from AudioMuse-AI: fetches only new or "
            "re-analysed tracks and deletes the ones it no longer lists."
        ),
        params=AudioMuseSyncParams,
        # AudioMuse-AI answers 503 while it is busy analysing; a later attempt usually works.
        max_attempts=5,
        # Two syncs at once would fetch the same payloads and race on the same rows.
        dedupe=lambda params: "audiomuse-sync",
        group="Library data",
        rank=13,
        present=present.present_sync,
    )
)

# The seed's schedule (times in PLAYLISTER_TIME_ZONE).
schedules.declare(
    schedules.DefaultSchedule(
        name="cache-warm", job_type="cache-warm", cron="0 3 * * 0", label="Warm the artist cache"
    )
)
schedules.declare(
    schedules.DefaultSchedule(
        name="cache-refresh", job_type="cache-refresh", cron="0 * * * *", label="Refresh the caches"
    )
)
schedules.declare(
    schedules.DefaultSchedule(
        name="audiomuse-sync",
        job_type="audiomuse-sync",
        cron="0 4 * * *",
        label="Sync AudioMuse-AI features",
        # Only where AudioMuse-AI is configured: the next `migrate` installs it once it is.
        when=lambda: bool(settings.PLAYLISTER_AUDIOMUSE_URL),
    )
)
