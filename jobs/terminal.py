"""Text for a terminal: columns that stay aligned whatever the names hold (wide CJK and emoji
characters take two cells, combining accents none), moments to the second with their zone,
and a job's result in words (``jobs.results.Presented``) as lines."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence
    from datetime import datetime

    from jobs.results import Presented


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes."""
    total = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def clip(text: str, limit: int) -> str:
    """At most ``limit`` cells, an ellipsis marking the cut; one line."""
    text = " ".join(text.split())
    if cells(text) <= limit:
        return text
    out, used = [], 0
    for char in text:
        used += cells(char)
        if used > limit - 1:
            break
        out.append(char)
    return "".join(out) + "…"


def columns(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    right: Collection[int] = (),
    gap: str = "  ",
) -> list[str]:
    """Header and rows, each column as wide as its widest cell; the last one unpadded."""
    table = [list(headers), *(list(row) for row in rows)]
    widths = [max(cells(row[n]) for row in table) for n in range(len(headers))]
    lines = []
    for row in table:
        parts = []
        for n, text in enumerate(row):
            room = widths[n] - cells(text)
            if n in right:
                parts.append(" " * room + text)
            elif n < len(row) - 1:
                parts.append(text + " " * room)
            else:
                parts.append(text)
        lines.append(gap.join(parts).rstrip())
    return lines


def moment(at: datetime | None) -> str:
    """``2026-12-01 10:30:05 CET``: local time to the second, the zone named; "-" if none."""
    if at is None:
        return "-"
    local = timezone.localtime(at)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def presented_lines(presented: Presented, *, indent: str = "  ") -> list[str]:
    """A result as lines: its sentence, its facts, then each table with its caption."""
    lines = [presented.summary]
    lines += [f"{indent}{label}: {value}" for label, value in presented.facts]
    for table in presented.tables:
        lines.append(f"{indent}{table.caption}:")
        rows = [[str(cell) for cell in row] for row in table.rows]
        lines += [
            f"{indent}{indent}{line}" for line in columns(table.columns, rows, right=table.numeric)
        ]
        if table.note:
            lines.append(f"{indent}{indent}{table.note}")
    lines += [f"{indent}{link.text}: {link.url}" for link in presented.links]
    return lines
