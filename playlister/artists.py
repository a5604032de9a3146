"""The artists of a track, resolved the way Plex libraries credit them.

Plex keeps the album artist in ``grandparentTitle`` and, when a track's own credit differs,
that credit in ``originalTitle``: "A feat. B", "A/B", "A; B", "A & B", "A, B", or on a
compilation ("Various Artists") the track's one artist. A separator only separates where
the whole credit is not itself a known artist ("Simon & Garfunkel", "AC/DC",
"Earth, Wind & Fire"), and a credit is only split when that names at least one known artist:
splitting an unknown name gains nothing and loses the name.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from enrichment.names import normalize_name

if TYPE_CHECKING:
    from collections.abc import Callable

# Captured, so that a run of parts can be joined back exactly as written.
_SEPARATORS = re.compile(r"(\s*/\s*|\s*;\s*|\s+feat\.\s+|\s+ft\.\s+|\s+&\s+|,\s+)", re.I)


def credit_parts(credit: str) -> list[str]:
    """Every name a credit could be made of: the whole, and each run of its parts."""
    tokens = _SEPARATORS.split(credit.strip())
    count = (len(tokens) + 1) // 2
    return [_run(tokens, i, j) for i in range(count) for j in range(i + 1, count + 1)]


def split_credit(credit: str, known: Callable[[str], bool]) -> list[str]:
    """The artists named by a credit: the longest known runs of its parts, left to right.

    ``known`` says whether a name is a known artist. The whole credit when it is known
    itself, when it has no separator, or when none of its parts is known.
    """
    credit = credit.strip()
    tokens = _SEPARATORS.split(credit)
    if len(tokens) == 1 or known(credit):
        return [credit] if credit else []
    count = (len(tokens) + 1) // 2
    names: list[str] = []
    start = 0
    while start < count:
        end = count
        while end > start + 1 and not known(_run(tokens, start, end)):
            end -= 1
        names.append(_run(tokens, start, end))
        start = end
    names = [n for n in names if n]
    return names if any(known(n) for n in names) else [credit]


def _run(tokens: list[str], start: int, end: int) -> str:
    """Parts ``start`` to ``end`` (exclusive) with the separators between them."""
    return "".join(tokens[2 * start : 2 * end - 1]).strip()


def track_artists(
    original_title: str, album_artist: str, known: Callable[[str], bool]
) -> list[str]:
    """The track's artists, its own credit first, then the album artist (once)."""
    names = split_credit(original_title, known) if original_title else []
    seen = {normalize_name(n) for n in names}
    if album_artist and normalize_name(album_artist) not in seen:
        names.append(album_artist)
    return names
