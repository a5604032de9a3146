"""The playlist jobs' results for people (``jobs.results``): what was written where, how long
it plays, and a link to the generation's own page."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse

from jobs.results import Cell, Link, Presented, Table, count, number, value_text
from playlister.generations import format_duration
from playlister.windows import WINDOWS, Window

# The page of one generation (a ``Playlist`` row); without one, the playlists page.
GENERATION_URL = "playlister:generation"
PLAYLISTS_URL = "playlister:playlists"


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def generation_url(result: dict[str, Any]) -> str | None:
    """The page of the generation the result names (its ``Playlist`` row, ``playlist_id``);
    None when it names none or the page does not exist."""
    playlist_id = _int(result.get("playlist_id"))
    if playlist_id <= 0:
        return None
    try:
        return reverse(GENERATION_URL, args=[playlist_id])
    except NoReverseMatch:
        return None


def _links(result: dict[str, Any]) -> tuple[Link, ...]:
    if url := generation_url(result):
        # A dry run keeps its chosen tracks as a preview, with a page of its own.
        return (Link("This preview" if result.get("dry_run") else "This generation", url),)
    try:
        return (Link("All playlists", reverse(PLAYLISTS_URL)),)
    except NoReverseMatch:
        return ()


def window_label(window: object) -> str:
    """``morning`` → ``Morning``; a custom playlist's ``custom:Name`` → ``Custom: Name``."""
    text = str(window or "")
    try:
        return WINDOWS[Window(text)].label
    except ValueError:
        name = text.removeprefix("custom:")
        return f"Custom: {name}" if name != text else text or "—"


def _length(result: dict[str, Any]) -> str:
    tracks = _int(result.get("tracks"))
    return f"{count(tracks, 'track')} ({format_duration(_int(result.get('duration_ms')))})"


def present_playlist(result: dict[str, Any]) -> Presented:
    """``playlist`` (a ``PlaylistResult``)."""
    title = str(result.get("title") or window_label(result.get("window")))
    tracks = _int(result.get("tracks"))
    if not tracks:
        summary = f"No tracks could be chosen for “{title}”: nothing was written."
    elif result.get("dry_run"):
        summary = f"Chose {_length(result)} for “{title}”; a dry run, nothing was written."
    else:
        made = " as a new Plex playlist" if result.get("created") else ""
        summary = f"Wrote {_length(result)} to “{title}”{made}."
    facts: list[tuple[str, Cell]] = [
        ("Window", window_label(result.get("window"))),
        ("Candidates", number(_int(result.get("candidates")))),
        ("Limits relaxed to fill it", value_text(bool(result.get("relaxed")))),
    ]
    if "seed" in result:
        facts.append(("Seed", str(result["seed"])))
    if plex_requests := _int(result.get("plex_requests")):
        facts.append(("Plex requests", number(plex_requests)))
    facts += [("Note", str(note)) for note in result.get("notes") or []]
    links = _links(result) if tracks else ()
    return Presented(summary, facts=tuple(facts), links=links)


def present_custom(result: dict[str, Any]) -> Presented:
    """``custom-playlists`` (a ``CustomResult``): one line per playlist."""
    written = [p for p in result.get("playlists") or [] if isinstance(p, dict)]
    skipped = [str(name) for name in result.get("skipped") or []]
    dry = any(p.get("dry_run") for p in written)
    if not written and not skipped:
        return Presented("No custom playlist is enabled: nothing to do.")
    tracks = sum(_int(p.get("tracks")) for p in written)
    summary = (
        f"{'Chose' if dry else 'Wrote'} {count(len(written), 'custom playlist')} "
        f"({count(tracks, 'track')})"
    )
    if skipped:
        summary += f"; {number(len(skipped))} skipped, no tracks match"
    summary += "; a dry run, nothing was written." if dry else "."
    rows: list[tuple[Cell, ...]] = []
    for p in written:
        title = str(p.get("title") or window_label(p.get("window")))
        url = generation_url(p)
        shown: Cell = Link(title, url) if url else title
        notes = "; ".join(str(n) for n in p.get("notes") or [])
        rows.append(
            (
                shown,
                number(_int(p.get("tracks"))),
                format_duration(_int(p.get("duration_ms"))),
                notes or "—",
            )
        )
    rows += [(name, "0", "—", "Skipped: no tracks match") for name in skipped]
    table = Table(
        caption="Custom playlists",
        columns=("Playlist", "Tracks", "Duration", "Notes"),
        rows=tuple(rows),
        numeric=frozenset({1}),
    )
    return Presented(summary, tables=(table,))
