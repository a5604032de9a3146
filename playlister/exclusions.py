"""Genres no playlist picks: always (audiobooks, comedy), or outside their season (Christmas
music before December).

A rule names a genre; a track is excluded when one of its genres — its own Plex tags, its
album's and every credited artist's cached genres — is that genre or holds it as a word
("christmas" also catches "christmas pop"). A seasonal rule allows its genre only between
two days of the year (inclusive, wrapping over New Year when the first is later).

The rules in force: the ones saved on the Playlists page (``ExclusionSettings``) once they
have been saved; until then the settings' ``PLAYLISTER_EXCLUDE_GENRES`` and
``PLAYLISTER_SEASONAL_GENRES``. "Reset to settings" on the page deletes the saved row.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings

from enrichment.names import normalize_tag

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

SUGGESTED = ("christmas", "holiday", "audiobook", "spoken word", "comedy")
_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})$")


class RuleError(ValueError):
    """A rule that cannot be read; the message says which and how to write it."""


def parse_day(text: str) -> tuple[int, int]:
    """ "12-01" → (12, 1); any real day of a leap year (so 02-29 is allowed)."""
    found = _DAY.match(text.strip())
    if found:
        month, day = int(found[1]), int(found[2])
        try:
            date(2024, month, day)
        except ValueError:
            pass
        else:
            return month, day
    raise RuleError(
        f"{text.strip()[:20]!r} is not a day of the year: write it as MM-DD, e.g. 12-01"
    )


@dataclass(frozen=True)
class Season:
    """A genre allowed only from ``start`` to ``end`` (month, day), both days included."""

    genre: str
    start: tuple[int, int]
    end: tuple[int, int]

    def allows(self, today: date) -> bool:
        day = (today.month, today.day)
        if self.start <= self.end:
            return self.start <= day <= self.end
        return day >= self.start or day <= self.end

    @property
    def days(self) -> tuple[str, str]:
        return (f"{self.start[0]:02d}-{self.start[1]:02d}", f"{self.end[0]:02d}-{self.end[1]:02d}")

    @property
    def text(self) -> str:
        """The form it is written in: "christmas:12-01:12-26"."""
        return f"{self.genre}:{self.days[0]}:{self.days[1]}"

    @property
    def label(self) -> str:
        return f"{self.genre} (allowed {self.days[0]} to {self.days[1]})"

    @classmethod
    def parse(cls, text: str) -> Season:
        """ "christmas:12-01:12-26" (spaces allowed around the parts)."""
        parts = [p.strip() for p in text.split(":")]
        if len(parts) != 3 or not normalize_tag(parts[0]):
            raise RuleError(
                f"{text.strip()[:60]!r} is not a seasonal rule: write genre:MM-DD:MM-DD, "
                "e.g. christmas:12-01:12-26"
            )
        return cls(normalize_tag(parts[0])[:100], parse_day(parts[1]), parse_day(parts[2]))


def genre_list(values: Iterable[str]) -> list[str]:
    """Normalised, without blanks or repeats, in the order given."""
    return list(dict.fromkeys(g for v in values if (g := normalize_tag(v)[:100])))


@dataclass(frozen=True)
class Rules:
    genres: tuple[str, ...] = ()
    seasons: tuple[Season, ...] = ()
    # Where they come from: "settings" or "page".
    source: str = "settings"

    def active(self, today: date) -> list[tuple[str, str]]:
        """(genre, label) of every rule that excludes its genre on ``today``."""
        found = [(g, g) for g in self.genres]
        found += [(s.genre, s.label) for s in self.seasons if not s.allows(today)]
        return found


def _holds(tag: str, genre: str) -> bool:
    return tag == genre or f" {genre} " in f" {tag} "


@dataclass
class Exclusion:
    """The rules in force today, applied to candidates; ``removed`` counts per rule label."""

    rules: list[tuple[str, str]]
    removed: Counter[str] = field(default_factory=Counter)

    def rule_for(self, genres: Iterable[str]) -> str:
        """The label of the first rule one of these genres breaks, or ""."""
        tags = list(genres)
        for genre, label in self.rules:
            if any(_holds(t, genre) for t in tags):
                return label
        return ""

    def keep[T](self, items: Sequence[T], genres_of: Callable[[T], Iterable[str]]) -> list[T]:
        """The items no rule excludes; the others are counted under their rule."""
        if not self.rules:
            return list(items)
        kept = []
        for item in items:
            label = self.rule_for(genres_of(item))
            if label:
                self.removed[label] += 1
            else:
                kept.append(item)
        return kept


def from_settings() -> Rules:
    return Rules(
        genres=tuple(genre_list(settings.PLAYLISTER_EXCLUDE_GENRES)),
        seasons=tuple(Season.parse(s) for s in settings.PLAYLISTER_SEASONAL_GENRES if s.strip()),
    )


def current_rules() -> Rules:
    """The page's saved rules if any, else the settings'."""
    from playlister.models import ExclusionSettings

    saved = ExclusionSettings.objects.filter(pk=ExclusionSettings.SINGLETON).first()
    if saved is None:
        return from_settings()
    return Rules(
        genres=tuple(genre_list(saved.genres)),
        seasons=tuple(Season.parse(s) for s in saved.seasonal),
        source="page",
    )


def exclusion_for(today: date, rules: Rules | None = None) -> Exclusion:
    return Exclusion((rules or current_rules()).active(today))


def save_rules(*, genres: Sequence[str], seasons: Sequence[Season]) -> Rules:
    """Keep these rules (they win over the settings from now on) and return them."""
    from playlister.models import ExclusionSettings

    ExclusionSettings.objects.update_or_create(
        pk=ExclusionSettings.SINGLETON,
        defaults={"genres": genre_list(genres), "seasonal": [s.text for s in seasons]},
    )
    return current_rules()


def reset_rules() -> Rules:
    """Forget the saved rules: the settings' apply again."""
    from playlister.models import ExclusionSettings

    ExclusionSettings.objects.filter(pk=ExclusionSettings.SINGLETON).delete()
    return current_rules()
