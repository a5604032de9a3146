"""The enrichment jobs' results for people (``jobs.results``): a sentence, where the genres
came from, which items failed and why; AudioMuse-AI's fetched / updated / deleted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enrichment import audiomuse, lastfm, plex, spotify
from jobs.results import Presented, Table, count, number, readable_error

PROVIDERS = (plex.PROVIDER, lastfm.PROVIDER, spotify.PROVIDER, audiomuse.PROVIDER)
# WarmResult's source counters, as the table names them.
SOURCES = (
    ("plex", "Plex tags"),
    ("lastfm", "Last.fm tags"),
    ("spotify", "Spotify genres"),
    ("artist", "The artist's genres"),
)


def _n(result: dict[str, Any], key: str) -> int:
    value = result.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class Words:
    """How one warmer's result is told: its items, and its verb."""

    noun: str
    plural: str
    done: str  # "Cached genres for", "Refreshed"
    dry: str  # "Would cache genres for", "Would refresh"
    nothing: str  # a run that had nothing to look at


ARTISTS = Words(
    "artist",
    "artists",
    "Cached genres for",
    "Would cache genres for",
    "The Plex library has no artists: nothing to do.",
)
ALBUMS = Words(
    "album",
    "albums",
    "Cached genres for",
    "Would cache genres for",
    "The Plex library has no albums: nothing to do.",
)
ENTRIES = Words("entry", "entries", "Refreshed", "Would refresh", "Nothing was due for a refresh.")


def failure(line: str) -> tuple[str, str]:
    """``Orky: Last.fm: HTTP 503`` → (``Orky``, ``Last.fm: HTTP 503``); a title may hold ": "
    itself, so the split is where a provider's name follows."""
    for provider in PROVIDERS:
        title, sep, reason = line.partition(f": {provider}: ")
        if sep:
            return title, readable_error(f"{provider}: {reason}")
    title, _, reason = line.partition(": ")
    return title, readable_error(reason)


def present_warm(result: dict[str, Any], words: Words) -> Presented:
    """``cache-warm``, ``cache-albums`` and ``cache-refresh`` (a ``WarmResult``)."""
    total, cached = _n(result, "total"), _n(result, "cached")
    failed, empty = _n(result, "failed"), _n(result, "empty")
    dry = bool(result.get("dry_run"))
    looked_up = max(0, total - cached)
    found = max(0, looked_up - failed - empty)
    if total == 0:
        summary = words.nothing
    elif looked_up == 0:
        summary = (
            f"All {count(total, words.noun, words.plural)} were cached and fresh: nothing to fetch."
        )
    else:
        asides = [
            f"{number(n)} {what}"
            for n, what in ((cached, "already cached"), (empty, "with no genres found"))
            if n
        ]
        if failed:
            asides.append(f"{number(failed)} failed")
        summary = (
            f"{words.dry if dry else words.done} {number(found)} of "
            f"{count(looked_up, words.noun, words.plural)} looked up"
            + (f" ({', '.join(asides)})" if asides else "")
            + ("; a dry run, nothing was written." if dry else ".")
        )
    facts = [(f"{words.plural.capitalize()} in all", number(total))]
    if requests := _n(result, "provider_requests"):
        facts.append(("Provider requests", number(requests)))
    sources = [(label, _n(result, key)) for key, label in SOURCES if _n(result, key)]
    sources += [
        (label, n)
        for label, n in (("Already cached", cached), ("No genres found", empty), ("Failed", failed))
        if n
    ]
    tables = []
    if sources:
        tables.append(
            Table(
                caption="Where the genres came from",
                columns=("Source", words.plural.capitalize()),
                rows=tuple((label, number(n)) for label, n in sources),
                numeric=frozenset({1}),
                note="An item may have genres from more than one source.",
            )
        )
    errors = [e for e in result.get("errors") or [] if isinstance(e, str)]
    if errors:
        tables.append(
            Table(
                caption="Failures",
                columns=(words.noun.capitalize(), "Reason"),
                rows=tuple(failure(line) for line in errors),
                note=f"The first {len(errors)} of {number(failed)}."
                if failed > len(errors)
                else "",
            )
        )
    return Presented(summary, facts=tuple(facts), tables=tuple(tables))


def present_sync(result: dict[str, Any]) -> Presented:
    """``audiomuse-sync`` (a ``SyncResult``): fetched / updated / deleted."""
    listed, fetched = _n(result, "listed"), _n(result, "fetched")
    created, updated = _n(result, "created"), _n(result, "updated")
    deleted, unchanged = _n(result, "deleted"), _n(result, "unchanged")
    dry = bool(result.get("dry_run"))
    if not fetched and not deleted:
        summary = f"AudioMuse-AI lists {count(listed, 'track')}: all were up to date."
    else:
        parts = [f"fetched {number(fetched)} ({number(created)} new, {number(updated)} updated)"]
        parts.append(f"deleted {number(deleted)}")
        parts.append(f"{number(unchanged)} unchanged")
        summary = f"AudioMuse-AI lists {count(listed, 'track')}: {', '.join(parts)}"
        summary += "; a dry run, nothing was written." if dry else "."
    table = Table(
        caption="What the sync did",
        columns=("Audio features", "Tracks"),
        rows=tuple(
            (label, number(n))
            for label, n in (
                ("Listed by AudioMuse-AI", listed),
                ("Fetched", fetched),
                ("New", created),
                ("Updated", updated),
                ("Deleted", deleted),
                ("Unchanged", unchanged),
            )
        ),
        numeric=frozenset({1}),
    )
    return Presented(summary, tables=(table,))
