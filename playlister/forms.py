"""The custom playlist form (genres and moods typed as comma-separated names, with pickers),
and the exclusions form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from enrichment.names import normalize_tag
from playlister.exclusions import RuleError, Rules, Season, genre_list
from playlister.models import CustomPlaylist

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_RULES = 50


def _names(value: str, what: str) -> list[str]:
    names = list(dict.fromkeys(normalize_tag(v) for v in value.split(",") if v.strip()))
    if len(names) > 2:
        raise forms.ValidationError(f"At most 2 {what}.")
    return names


class CustomPlaylistForm(forms.ModelForm[CustomPlaylist]):
    genres = forms.CharField(
        required=False,
        max_length=300,
        help_text="Up to 2, comma-separated (e.g. indie rock, folk).",
        widget=forms.TextInput(attrs={"list": "genre-choices", "autocomplete": "off"}),
    )
    moods = forms.CharField(
        required=False,
        max_length=300,
        help_text="Up to 2, comma-separated.",
        widget=forms.TextInput(attrs={"list": "mood-choices", "autocomplete": "off"}),
    )

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

    def _post_clean(self) -> None:
        # The model's own checks ("Choose at least one genre or mood.") would take a field
        # refused above for empty and add a second message to its one: nothing more is
        # said until genres and moods are right.
        if self.has_error("genres") or self.has_error("moods"):
            return
        super()._post_clean()  # type: ignore[misc]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


class ExclusionsForm(forms.Form):
    """Genres never used, and seasonal rules ("christmas:12-01:12-26"), one per line."""

    genres = forms.CharField(
        required=False,
        max_length=2000,
        label="Never use these genres",
        help_text="Comma-separated. A genre also catches tags that hold it as a word.",
        widget=forms.TextInput(attrs={"list": "exclusion-suggestions", "autocomplete": "off"}),
    )
    seasonal = forms.CharField(
        required=False,
        max_length=2000,
        label="Seasonal genres",
        help_text="One per line: genre:MM-DD:MM-DD, allowed only between those days.",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "christmas:12-01:12-26"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Ids of their own: the custom playlist form on the same page has a "genres" too.
        kwargs.setdefault("auto_id", "id_exclusions_%s")
        super().__init__(*args, **kwargs)

    @classmethod
    def for_rules(cls, rules: Rules) -> ExclusionsForm:
        return cls(
            initial={
                "genres": ", ".join(rules.genres),
                "seasonal": "\n".join(s.text for s in rules.seasons),
            }
        )

    def clean_genres(self) -> list[str]:
        found = genre_list((self.cleaned_data.get("genres") or "").split(","))
        if len(found) > MAX_RULES:
            raise forms.ValidationError(f"At most {MAX_RULES} genres.")
        return found

    def clean_seasonal(self) -> list[Season]:
        seasons = []
        for line in _lines(self.cleaned_data.get("seasonal") or ""):
            try:
                seasons.append(Season.parse(line))
            except RuleError as exc:
                raise forms.ValidationError(str(exc)) from None
        if len(seasons) > MAX_RULES:
            raise forms.ValidationError(f"At most {MAX_RULES} seasonal rules.")
        return seasons

    @staticmethod
    def texts(seasons: Iterable[Season]) -> list[str]:
        return [s.text for s in seasons]
