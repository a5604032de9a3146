"""How a job's result and parameters read to people: a sentence, a few facts, small tables.

A job type's ``present`` (``registry.JobType``) turns the result the runner stored (JSON) into
a ``Presented``; without one, ``present_default`` renders a dict readably. The detail page,
the dashboard's finished runs, the CLI's last line, ``jobs show`` and the stream's ``end``
event all show it; the raw JSON stays at ``/jobs/<id>.json``. Presenters live in the apps
that own the job types (``enrichment.present``, ``playlister.results``) and must accept
results of older shapes (a key missing, a new key): a presenter that raises falls back to
the default, so a page never fails on an old row.

Parameters read through the job type's params form: its labels, its choices' labels, Yes/No
for booleans and "—" for nothing (``param_rows``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django import forms

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

NOTHING = "—"
# A list in a cell names this many items, then says how many more.
LIST_SHOWN = 10
# The default summary names at most this many of a dict's plain values.
SUMMARY_FACTS = 3


@dataclass(frozen=True)
class Link:
    text: str
    url: str

    def __str__(self) -> str:
        return self.text


Cell = str | Link


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    # Columns shown right-aligned (counts).
    numeric: frozenset[int] = frozenset()
    # Said under the table ("The first 20 of 35.").
    note: str = ""

    @property
    def headers(self) -> list[tuple[str, bool]]:
        """Each column and whether it holds numbers."""
        return [(column, n in self.numeric) for n, column in enumerate(self.columns)]

    @property
    def labelled_rows(self) -> list[list[tuple[str, Cell, bool]]]:
        """Each cell with its column's name (a phone shows it beside the cell)."""
        return [
            [(self.columns[n], cell, n in self.numeric) for n, cell in enumerate(row)]
            for row in self.rows
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "caption": self.caption,
            "columns": list(self.columns),
            "rows": [[str(cell) for cell in row] for row in self.rows],
            "note": self.note,
        }


@dataclass(frozen=True)
class Presented:
    """A result for people: ``summary`` is one sentence (the CLI's last line); ``facts`` are
    labelled values, ``tables`` small tables, ``links`` pages that say more."""

    summary: str
    facts: tuple[tuple[str, Cell], ...] = ()
    tables: tuple[Table, ...] = ()
    links: tuple[Link, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "facts": [[label, str(value)] for label, value in self.facts],
            "tables": [table.as_json() for table in self.tables],
            "links": [{"text": link.text, "url": link.url} for link in self.links],
        }


def number(n: int | float) -> str:
    """``1,234``; a float with at most two decimals."""
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.2f}".rstrip("0").rstrip(".")
    return f"{int(n):,}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 artist``, ``1,234 artists``."""
    return f"{number(n)} {noun if n == 1 else plural or noun + 's'}"


def duration_text(seconds: float | None, *, whole_minutes: bool = False) -> str:
    """``850 ms``, ``12s``, ``3m 05s``, ``2h 04m``: short enough for a table cell ("" for
    None). ``whole_minutes`` rounds to the minute (``45m``, ``3h 24m``): a playlist's length."""
    if seconds is None:
        return ""
    if whole_minutes:
        minutes = round(seconds / 60)
        if minutes < 60:
            return f"{minutes}m"
    else:
        if seconds < 1:
            return f"{round(seconds * 1000)} ms"
        whole = round(seconds)
        if whole < 60:
            return f"{whole}s"
        minutes, secs = divmod(whole, 60)
        if minutes < 60:
            return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def listed(items: Iterable[object], limit: int = LIST_SHOWN) -> str:
    """``a, b, c and 7 more``."""
    texts = [str(item) for item in items]
    if not texts:
        return NOTHING
    shown = ", ".join(texts[:limit])
    return shown if len(texts) <= limit else f"{shown} and {len(texts) - limit} more"


def value_text(value: object) -> str:
    """A JSON value as a person says it: Yes/No, "—" for nothing, ``1,234``, lists joined."""
    if value is None or value == "" or value == [] or value == {}:
        return NOTHING
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            return listed(value_text(item) for item in value)
        return count(len(value), "entry", "entries")
    if isinstance(value, dict):
        return listed(f"{label_of(str(k))}: {value_text(v)}" for k, v in value.items())
    return str(value)


def label_of(name: str) -> str:
    """``provider_requests`` → ``Provider requests``."""
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else name


# An exception's class name where a message begins ("ValueError: …", also after "Attempt 1
# of 3 failed: ") or in parentheses ("cannot connect (ConnectionError)"): code's words, not
# a person's. Rows written before errors were sentences still carry them.
_CLASS_PREFIX = re.compile(
    r"(?:^|(?<=: ))(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Timeout|Failure)"
    r"(?:: |$)"
)
_CLASS_ASIDE = re.compile(
    r" ?\((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Timeout|Failure)\)"
)


def sentence(text: str) -> str:
    """``text`` with a capital first letter."""
    text = text.strip()
    return text[:1].upper() + text[1:]


UNEXPECTED = "An unexpected error (the job's log has the details)"


def readable_error(text: str) -> str:
    """An error message as a sentence: no exception class names, a capital first letter
    (nothing left: ``UNEXPECTED``)."""
    return sentence(_CLASS_ASIDE.sub("", _CLASS_PREFIX.sub("", text))) or UNEXPECTED


def present_default(result: Any) -> Presented:
    """Any result, readably: a dict's plain values in the summary, every key as a fact."""
    if result is None:
        return Presented("Done.")
    if not isinstance(result, dict):
        return Presented(value_text(result))
    facts = tuple((label_of(str(key)), value_text(value)) for key, value in result.items())
    summary = result.get("summary")
    if not isinstance(summary, str) or not summary:
        plain = [
            f"{label}: {text}"
            for (label, text), value in zip(facts, result.values(), strict=True)
            if not isinstance(value, dict | list)
        ]
        summary = " · ".join(plain[:SUMMARY_FACTS]) or "Done."
    return Presented(summary, facts=facts)


def _field_text(field_: forms.Field | None, value: object) -> str:
    if isinstance(field_, forms.ChoiceField) and value not in (None, ""):
        listed_choices: Iterable[tuple[object, object]] = getattr(field_, "choices", ())
        choices = {str(k): v for k, v in listed_choices}
        return str(choices.get(str(value), value))
    return value_text(value)


def param_rows(
    fields: Mapping[str, forms.Field], params: Mapping[str, Any] | None
) -> list[tuple[str, str]]:
    """The parameters of a run as a person says them, in the form's order: each field's
    label, its choice's label, Yes/No, "—"; keys the form does not know (a type that changed)
    come last, by name."""
    params = params or {}
    rows = [
        (str(f.label or label_of(name)), _field_text(f, params[name]))
        for name, f in fields.items()
        if name in params
    ]
    rows += [(label_of(k), value_text(params[k])) for k in sorted(set(params) - set(fields))]
    return rows
