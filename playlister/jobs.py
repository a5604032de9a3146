"""The playlist job types: ``playlist`` (one window) and ``custom-playlists``."""

from __future__ import annotations

from django import forms

from jobs import params, registry, schedules
from playlister.results import present_custom, present_playlist
from playlister.services import generate_custom_playlists, generate_playlist
from playlister.windows import DAILY, WINDOWS, Window

# The largest integer a JSON reader (a browser) keeps exact, since params travel as JSON;
# it fits the playlists.seed column (bigint). The default seeds are 48-bit.
MAX_SEED = 2**53 - 1


# A choice of the form that starts one job per window (``JobType.expand``).
ALL_WINDOWS = "all"


class PlaylistParams(params.ParamsForm):
    window = forms.ChoiceField(
        choices=[*((w.value, WINDOWS[w].label) for w in Window), (ALL_WINDOWS, "All windows")]
    )
    dry_run = params.BooleanField(help_text="Choose, write nothing.")
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_SEED,
        help_text="Fix the randomness (default: window and day).",
    )


class CustomParams(params.ParamsForm):
    dry_run = params.BooleanField(help_text="Choose, write nothing.")
    custom = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        label="Custom playlist",
        # No menu of names: a params form reads no database (the CLI, the JSON API and
        # the dashboard build it without one); an id that names nothing fails the run.
        help_text="Only this one (its id), enabled or not; default: every enabled one.",
    )


registry.register(
    registry.JobType(
        name="playlist",
        func=generate_playlist,
        label="Generate a playlist",
        description="A daily mix for a time of day, or the weekly discovery / throwback mix.",
        params=PlaylistParams,
        # The seed's history is per window; one generation per window at a time.
        window=lambda params: str(params["window"]),
        dedupe=lambda params: f"playlist:{params['window']}",
        takes_job_id=True,
        present=present_playlist,
        group="Playlists",
        rank=1,
        expand=lambda p: (
            [{**p, "window": w.value} for w in Window] if p["window"] == ALL_WINDOWS else [dict(p)]
        ),
    )
)
registry.register(
    registry.JobType(
        name="custom-playlists",
        func=generate_custom_playlists,
        label="Generate the custom playlists",
        description="Every enabled custom genre/mood playlist, or the one named.",
        params=CustomParams,
        # One at a time, whichever playlists: two runs must never write one Plex playlist
        # at once, and the runs that name one playlist overlap those that do all of them.
        dedupe=lambda params: "custom-playlists",
        takes_job_id=True,
        present=present_custom,
        group="Playlists",
        rank=2,
    )
)

# The seed's schedule (times in PLAYLISTER_TIME_ZONE): the daily mixes at 05:00, one job per
# window; discovery on Mondays and throwback on Saturdays at 06:00; custom playlists Sundays.
_SEED_TIMES = {
    **dict.fromkeys(DAILY, "0 5 * * *"),
    Window.DISCOVERY: "0 6 * * 1",
    Window.THROWBACK: "0 6 * * 6",
}
for window, cron in _SEED_TIMES.items():
    schedules.declare(
        schedules.DefaultSchedule(
            name=f"{'daily' if window in DAILY else 'weekly'}-{window.value}",
            job_type="playlist",
            params={"window": window.value},
            cron=cron,
            label=f"{WINDOWS[window].label} playlist",
        )
    )
schedules.declare(
    schedules.DefaultSchedule(
        name="custom-playlists",
        job_type="custom-playlists",
        cron="0 6 * * 0",
        label="Custom playlists",
    )
)
