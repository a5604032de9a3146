"""The playlist job types: ``playlist`` (one window) and ``custom-playlists``."""

from __future__ import annotations

from django import forms

from enrichment.http import TransientProviderError
from jobs import registry
from playlister.services import generate_custom_playlists, generate_playlist
from playlister.windows import Window


class PlaylistParams(forms.Form):
    window = forms.ChoiceField(choices=[(w.value, w.value) for w in Window])
    dry_run = forms.BooleanField(required=False, initial=False, help_text="Choose, write nothing.")
    seed = forms.IntegerField(
        required=False, min_value=0, help_text="Fix the randomness (default: window and day)."
    )


class CustomParams(forms.Form):
    dry_run = forms.BooleanField(required=False, initial=False, help_text="Choose, write nothing.")


registry.register(
    registry.JobType(
        name="playlist",
        func=generate_playlist,
        label="Generate a playlist",
        description="A daily mix for a time of day, or the weekly discovery / throwback mix.",
        params=PlaylistParams,
        transient_errors=(TransientProviderError,),
        # The seed's history is per window; one generation per window at a time.
        window=lambda params: str(params["window"]),
        dedupe=lambda params: f"playlist:{params['window']}",
        takes_job_id=True,
    )
)
registry.register(
    registry.JobType(
        name="custom-playlists",
        func=generate_custom_playlists,
        label="Generate the custom playlists",
        description="Every enabled custom genre/mood playlist.",
        params=CustomParams,
        transient_errors=(TransientProviderError,),
        dedupe=lambda params: "custom-playlists",
        takes_job_id=True,
    )
)
