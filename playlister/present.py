"""What a person sees of a generation and its tracks: every text computed once, scores
rounded for people (two decimals), times in ``PLAYLISTER_TIME_ZONE``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from playlister.generations import format_duration

if TYPE_CHECKING:
    from datetime import datetime

    from playlister.models import Playlist, PlaylistTrack
    from playlister.selectors import Difference

POOLS = {
    "history": "played in this window lately",
    "fallback": "fallback pool (best rated, most played)",
    "library": "from the whole library",
    "then": "loved two to five years ago",
    "sonic": "sonic expansion (sounds like the others)",
}
PICKS = {
    "top": "top score",
    "exploration": "exploration pick",
    "fill": "filled in (exploration found too few)",
}
PART_LABELS = {"plays then": "plays then"}


def score_text(value: float) -> str:
    return f"{value:.2f}"


def local_text(at: datetime | None) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else ""


def track_time(ms: int) -> str:
    seconds = round(ms / 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


def rating_text(value: float | None) -> str:
    """Plex's 0-10 rating as stars out of five ("4½ ★"); "" unrated."""
    if value is None:
        return ""
    halves = round(value)
    return f"{halves // 2}{'½' if halves % 2 else ''} ★"


@dataclass(frozen=True)
class TrackRow:
    track: PlaylistTrack
    change: str  # "added", "kept", "" (no previous generation)

    @property
    def why(self) -> dict[str, Any]:
        return self.track.why or {}

    @property
    def score(self) -> str:
        return score_text(self.track.score)

    @property
    def parts(self) -> str:
        """ "recency 0.52 + quality 0.21 (sonic fit 0.94)" """
        parts = self.why.get("parts") or {}
        text = " + ".join(f"{PART_LABELS.get(k, k)} {score_text(v)}" for k, v in parts.items())
        fit = self.why.get("fit")
        if fit is not None:
            text += f" (sonic fit {score_text(fit)})"
        return text

    @property
    def pool(self) -> str:
        return POOLS.get(self.why.get("pool", ""), "")

    @property
    def pick(self) -> str:
        return PICKS.get(self.why.get("pick", ""), "")

    @property
    def relaxed(self) -> str:
        return str(self.why.get("relaxed", ""))

    @property
    def genres(self) -> str:
        return ", ".join(self.track.genres or ([self.track.genre] if self.track.genre else []))

    @property
    def rating(self) -> str:
        return rating_text(self.track.user_rating)

    @property
    def last_played(self) -> str:
        at = self.track.last_viewed_at
        return timezone.localtime(at).strftime("%Y-%m-%d") if at else "never"

    @property
    def duration(self) -> str:
        return track_time(self.track.duration_ms)


def track_rows(tracks: list[PlaylistTrack], diff: Difference) -> list[TrackRow]:
    compared = diff.previous is not None
    return [
        TrackRow(t, ("added" if t.rating_key in diff.added else "kept") if compared else "")
        for t in tracks
    ]


@dataclass(frozen=True)
class GenerationView:
    playlist: Playlist

    @property
    def when(self) -> str:
        return local_text(self.playlist.generated_at)

    @property
    def duration(self) -> str:
        return format_duration(self.playlist.duration_ms)

    @property
    def details(self) -> dict[str, Any]:
        return self.playlist.details or {}

    @property
    def excluded(self) -> list[tuple[str, int]]:
        return [(str(rule), int(n)) for rule, n in self.details.get("excluded", [])]

    @property
    def limits(self) -> str:
        limits = self.details.get("limits") or {}
        if not limits:
            return ""
        share = round(float(limits.get("genre_share", 0)) * 100)
        return f"at most {limits.get('per_artist')} per artist, {share} % per genre"

    @property
    def relaxed(self) -> bool:
        return bool(self.details.get("relaxed"))

    @property
    def shaped(self) -> int:
        return int(self.details.get("shaped") or 0)
