"""What a person sees of a generation and its tracks: every text computed once, scores
rounded for people (two decimals), times in ``PLAYLISTER_TIME_ZONE``."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.safestring import SafeString

from playlister.generations import format_duration

if TYPE_CHECKING:
    from datetime import datetime

    from playlister.models import Playlist
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


def parts_text(why: dict[str, Any]) -> str:
    """ "recency 0.52 + quality 0.21 (sonic fit 0.94)" """
    parts = why.get("parts") or {}
    text = " + ".join(f"{k} {score_text(v)}" for k, v in parts.items())
    fit = why.get("fit")
    if fit is not None:
        text += f" (sonic fit {score_text(fit)})"
    return text


# One row of a generation's track table. Written here rather than in the template: the
# page has 200 rows of 11 cells, and the template engine took 10 ms to render them where
# formatting this string takes 1 (every value escaped as ``{{ }}`` escapes it).
TRACK_ROW = (
    '<tr data-key="{key}"{change}>\n'
    '        <td data-label="#" class="num">{position}</td>\n'
    '        <td data-label="Title">{title}{new}</td>\n'
    '        <td data-label="Artist">{artist}</td>\n'
    '        <td data-label="Album">{album}</td>\n'
    '        <td data-label="Genres">{genres}</td>\n'
    '        <td data-label="Rating">{rating}</td>\n'
    '        <td data-label="Plays" class="num">{plays}</td>\n'
    '        <td data-label="Last played">{last_played}</td>\n'
    '        <td data-label="Length" class="num">{duration}</td>\n'
    '        <td data-label="Score" class="num score">{score}</td>\n'
    '        <td data-label="Why" class="why"><span class="parts">{parts}</span>'
    "{pool}{relaxed}</td>\n"
    "      </tr>"
)
NEW_BADGE = ' <span class="badge status-success">new</span>'


def _why_extra(why: dict[str, Any]) -> tuple[str, str]:
    """The Why cell after the score's parts: the pool and pick, what was relaxed."""
    pool = POOLS.get(why.get("pool", ""), "")
    pick = PICKS.get(why.get("pick", ""), "")
    relaxed = str(why.get("relaxed", ""))
    pool_html = ""
    if pool:
        pool_html = f'<br><span class="muted">{escape(pool)}'
        pool_html += f" · {escape(pick)}</span>" if pick else "</span>"
    relaxed_html = f'<br><span class="relaxed">{escape(relaxed)}</span>' if relaxed else ""
    return pool_html, relaxed_html


def track_rows(tracks: list[dict[str, Any]], diff: Difference) -> list[SafeString]:
    """Each track's row of the table (``TRACK_ROW``), every cell's text computed here.
    ``tracks``: ``selectors.tracks_of``."""
    compared = diff.previous is not None
    added = diff.added
    rows = []
    for t in tracks:
        why = t["why"] or {}
        at = t["last_viewed_at"]
        key = t["rating_key"]
        change = ("added" if key in added else "kept") if compared else ""
        pool, relaxed = _why_extra(why)
        rows.append(
            SafeString(
                TRACK_ROW.format(
                    key=escape(key),
                    change=f' data-change="{change}"' if change else "",
                    position=t["position"],
                    title=escape(t["title"]),
                    new=NEW_BADGE if change == "added" else "",
                    artist=escape(t["artist"]),
                    album=escape(t["album"]),
                    genres=escape(", ".join(t["genres"] or ([t["genre"]] if t["genre"] else []))),
                    rating=escape(rating_text(t["user_rating"])),
                    plays=t["view_count"],
                    last_played=timezone.localtime(at).strftime("%Y-%m-%d") if at else "never",
                    duration=track_time(t["duration_ms"]),
                    score=score_text(t["score"]),
                    parts=escape(parts_text(why)),
                    pool=pool,
                    relaxed=relaxed,
                )
            )
        )
    return rows


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
