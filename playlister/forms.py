"""The custom playlist form: genres and moods typed as comma-separated names."""

from __future__ import annotations

from typing import Any

from django import forms

from enrichment.names import normalize_tag
from playlister.models import CustomPlaylist


def _names(value: str, what: str) -> list[str]:
    names = list(dict.fromkeys(normalize_tag(v) for v in value.split(",") if v.strip()))
    if len(names) > 2:
        raise forms.ValidationError(f"At most 2 {what}.")
    return names


class CustomPlaylistForm(forms.ModelForm[CustomPlaylist]):
    genres = forms.CharField(
        required=False, help_text="Up to 2, comma-separated (e.g. indie rock, folk)."
    )
    moods = forms.CharField(required=False, help_text="Up to 2, comma-separated.")

    class Meta:
        model = CustomPlaylist
        fields = ["name", "genres", "moods", "target_size", "strategy", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["genres"] = ", ".join(self.instance.genres)
            self.initial["moods"] = ", ".join(self.instance.moods)

    def clean_genres(self) -> list[str]:
        return _names(self.cleaned_data.get("genres") or "", "genres")

    def clean_moods(self) -> list[str]:
        return _names(self.cleaned_data.get("moods") or "", "moods")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("genres") and not cleaned.get("moods") and not self.errors:
            raise forms.ValidationError("Choose at least one genre or mood.")
        return cleaned
