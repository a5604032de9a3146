"""Plex section queries: filter parsing, filtering, sorting, paging and the filter ``<Meta>``.

Plex puts the operator into the parameter *name*: ``userRating>>=8`` arrives as the name
``userRating>>`` (often percent-encoded) and the value ``8``; ``title==Foo`` as ``title=`` and
``Foo``. The fake accepts the fields it advertises in ``<Meta>`` and answers anything else
with 400 rather than silently ignoring it, so a wrong filter in the app fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus
from xml.etree.ElementTree import Element, SubElement

from enrichment.fakes.models import Album, Artist
from enrichment.fakes.vocab import TAG_IDS

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from enrichment.fakes.models import Item, Library

LIBTYPES = {8: "artist", 9: "album", 10: "track"}
TYPE_NUMBERS = {name: number for number, name in LIBTYPES.items()}

# Parameters that change the shape of an answer, not which items match.
_PASSIVE = re.compile(r"^(include|exclude|X-Plex-|checkFiles|asyncAugment|skipRefresh)", re.I)
_NAME = re.compile(r"^(?:([A-Za-z]+)\.)?([A-Za-z0-9]+)([!<>=]*)$")
_RELATIVE = re.compile(r"^-?(\d+)(mon|[smhdwy])$")
_DATE_ATTRS = {
    "lastViewedAt": "last_viewed_at",
    "lastRatedAt": "last_rated_at",
    "addedAt": "added_at",
    "updatedAt": "updated_at",
}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "mon": 2_592_000, "y": 31_536_000}

# field -> field type, per libtype; mirrored into <Meta> so plexapi validates against it.
FIELDS: dict[str, dict[str, str]] = {
    "artist": {
        "title": "string",
        "genre": "tag",
        "style": "tag",
        "mood": "tag",
        "userRating": "integer",
        "viewCount": "integer",
        "lastViewedAt": "date",
        "addedAt": "date",
        "updatedAt": "date",
        "lastRatedAt": "date",
        "id": "integer",
    },
    "album": {
        "title": "string",
        "genre": "tag",
        "style": "tag",
        "mood": "tag",
        "year": "integer",
        "userRating": "integer",
        "viewCount": "integer",
        "lastViewedAt": "date",
        "addedAt": "date",
        "updatedAt": "date",
        "lastRatedAt": "date",
        "id": "integer",
    },
    "track": {
        "title": "string",
        "genre": "tag",
        "mood": "tag",
        "userRating": "integer",
        "viewCount": "integer",
        "lastViewedAt": "date",
        "addedAt": "date",
        "updatedAt": "date",
        "lastRatedAt": "date",
        "id": "integer",
        "index": "integer",
        "duration": "integer",
    },
}
OPERATORS: dict[str, tuple[tuple[str, str], ...]] = {
    "tag": (("=", "is"), ("!=", "is not")),
    "integer": (("=", "is"), ("!=", "is not"), (">>=", "is greater than"), ("<<=", "is less than")),
    "string": (
        ("=", "contains"),
        ("!=", "does not contain"),
        ("==", "is"),
        ("!==", "is not"),
        ("<=", "begins with"),
        (">=", "ends with"),
    ),
    "date": (("<<=", "is before"), (">>=", "is after")),
    "boolean": (("=", "is true"), ("!=", "is false")),
}
# sort key -> (default direction, title)
SORTS: dict[str, tuple[str, str]] = {
    "titleSort": ("asc", "Title"),
    "addedAt": ("desc", "Date Added"),
    "updatedAt": ("desc", "Date Updated"),
    "lastViewedAt": ("desc", "Last Played"),
    "viewCount": ("desc", "Plays"),
    "userRating": ("desc", "Rating"),
    "id": ("asc", "Rating Key"),
}
EXTRA_SORTS = {"album": {"year": ("desc", "Year")}, "track": {"index": ("asc", "Track Number")}}


class QueryError(ValueError):
    """A query the fake does not understand (answered with HTTP 400)."""


@dataclass(frozen=True, slots=True)
class Condition:
    """``{libtype}.{field}{op}value[,value...]`` from the query string."""

    libtype: str
    field: str
    op: str
    values: tuple[str, ...]


def parse_pairs(raw_query: str) -> list[tuple[str, str]]:
    """(name, value) pairs where the name keeps any trailing operator characters.

    Values are always percent-encoded by plexapi, so the *last* raw ``=`` separates name
    and value even when the operator itself ends in ``=``.
    """
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        name, sep, value = part.rpartition("=")
        if not sep:
            name, value = part, ""
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def conditions(pairs: Sequence[tuple[str, str]], libtype: str) -> list[Condition]:
    """Filter conditions of a section query; raises :class:`QueryError` on unknown fields."""
    found = []
    for name, value in pairs:
        if _PASSIVE.match(name) or name in {"type", "sort", "limit"}:
            continue
        match = _NAME.match(name)
        if not match:
            raise QueryError(f"unsupported parameter {name!r}")
        prefix, field, op = match.groups()
        target = prefix or libtype
        if target not in FIELDS or field not in FIELDS[target]:
            raise QueryError(f"unsupported filter field {name!r} for type {libtype}")
        operator = op + "="
        field_type = FIELDS[target][field]
        if operator not in dict(OPERATORS[field_type]):
            raise QueryError(f"unsupported operator {operator!r} for {field_type} field {field!r}")
        found.append(Condition(target, field, operator, tuple(value.split(","))))
    return found


def _date_value(raw: str, now: datetime) -> int:
    relative = _RELATIVE.match(raw)
    if relative:
        amount, unit = relative.groups()
        return int((now - timedelta(seconds=int(amount) * _UNITS[unit])).timestamp())
    try:
        return int(raw)
    except ValueError as exc:
        raise QueryError(f"bad date value {raw!r}") from exc


def _attribute(item: Item, field: str) -> object:
    if field == "id":
        return item.rating_key
    if field == "genre":
        return item.genres
    if field == "style":
        return getattr(item, "styles", ())
    if field == "mood":
        return item.moods
    if field == "title":
        return item.title
    if field == "userRating":
        return item.user_rating or 0
    if field == "viewCount":
        return item.view_count
    if field in _DATE_ATTRS:
        value = getattr(item, _DATE_ATTRS[field])
        return int(value.timestamp()) if value is not None else None
    if field == "duration":
        return getattr(item, "duration_ms", None)
    return getattr(item, field, None)  # year, index


def _tag_matches(tags: tuple[str, ...], kind: str, wanted: str) -> bool:
    wanted_folded = wanted.casefold()
    return any(wanted == str(TAG_IDS.get((kind, t))) or t.casefold() == wanted_folded for t in tags)


def _matches_one(item: Item, cond: Condition, now: datetime) -> bool:
    value = _attribute(item, cond.field)
    kind = FIELDS[cond.libtype][cond.field]
    op, values = cond.op, cond.values
    if kind == "tag":
        assert isinstance(value, tuple)
        hit = any(_tag_matches(value, cond.field, v) for v in values)
        return hit if op == "=" else not hit
    if kind == "string":
        text, wanted = str(value).casefold(), [v.casefold() for v in values]
        tests: dict[str, Callable[[str], bool]] = {
            "=": lambda w: w in text,
            "!=": lambda w: w not in text,
            "==": lambda w: w == text,
            "!==": lambda w: w != text,
            "<=": text.startswith,
            ">=": text.endswith,
        }
        results = [tests[op](w) for w in wanted]
        return all(results) if op.startswith("!") else any(results)
    if value is None:
        return op == "!="
    number = int(value) if isinstance(value, (int, float)) else 0
    parsed = [_date_value(v, now) if kind == "date" else int(float(v)) for v in values]
    if op == "=":
        return number in parsed
    if op == "!=":
        return number not in parsed
    if op == ">>=":
        return any(number > p for p in parsed)
    return any(number < p for p in parsed)


def related(library: Library, item: Item, libtype: str) -> Sequence[Item]:
    """The items of ``libtype`` that a (possibly prefixed) filter on ``item`` looks at."""
    if isinstance(item, Artist):
        if libtype == "artist":
            return (item,)
        if libtype == "album":
            return library.albums_of(item.rating_key)
        return library.tracks_of_artist(item.rating_key)
    if libtype == "artist":
        return (library.artist(item.artist_key),)
    if isinstance(item, Album):
        return (item,) if libtype == "album" else library.tracks_of_album(item.rating_key)
    return (library.album(item.album_key),) if libtype == "album" else (item,)


def apply_filters(
    library: Library, items: Sequence[Item], conds: Sequence[Condition], now: datetime
) -> list[Item]:
    """Items satisfying every condition (a condition on related items needs any of them)."""
    if not conds:
        return list(items)
    return [
        item
        for item in items
        if all(
            any(_matches_one(r, c, now) for r in related(library, item, c.libtype)) for c in conds
        )
    ]


def sort_items(items: list[Item], sort: str | None, libtype: str) -> list[Item]:
    """Items sorted by Plex's ``sort=field[:dir],...``; ``None`` keeps the given order."""
    if not sort:
        return items
    allowed = SORTS | EXTRA_SORTS.get(libtype, {})
    specs = []
    for part in sort.split(","):
        name, _, direction = part.strip().partition(":")
        field = name.rsplit(".", 1)[-1]
        if field not in allowed:
            raise QueryError(f"unsupported sort field {name!r}")
        direction = direction or allowed[field][0]
        if direction not in {"asc", "desc", "nullsLast"}:
            raise QueryError(f"unsupported sort direction {direction!r}")
        specs.append((field, direction))
    result = list(items)
    for field, direction in reversed(specs):  # stable sorts, least significant key first
        if field == "titleSort":
            result.sort(key=_title_key, reverse=direction == "desc")
            continue
        present = [i for i in result if _attribute(i, field) is not None]
        missing = [i for i in result if _attribute(i, field) is None]
        present.sort(key=_sort_key(field), reverse=direction == "desc")
        # Plex lists items lacking the value last when sorting descending (e.g. never played).
        result = missing + present if direction == "asc" else present + missing
    return result


def _sort_key(field: str) -> Callable[[Item], float]:
    def key(item: Item) -> float:
        value = _attribute(item, field)
        return float(value) if isinstance(value, (int, float)) else 0.0

    return key


def _title_key(item: Item) -> str:
    return getattr(item, "title_sort", item.title).casefold()


def default_order(library: Library, libtype: str) -> tuple[Item, ...]:
    """A section listing's default order: by sort title, then rating key."""
    items: Sequence[Item]
    if libtype == "artist":
        items = library.artists
    elif libtype == "album":
        items = library.albums
    else:
        items = library.tracks
    return tuple(sorted(items, key=lambda i: (_title_key(i), i.rating_key)))


def meta_element(section_id: int, libtypes: Sequence[str]) -> Element:
    """The ``<Meta>`` block plexapi reads before validating any search filter or sort."""
    meta = Element("Meta")
    for libtype in libtypes:
        number = TYPE_NUMBERS.get(libtype)
        type_el = SubElement(
            meta,
            "Type",
            key=f"/library/sections/{section_id}/all?type={number}" if number else "",
            type=libtype,
            title=f"{libtype.capitalize()}s",
            active="1" if libtype == "artist" else "0",
        )
        for tag_kind in ("genre", "style", "mood"):
            if number and tag_kind in FIELDS.get(libtype, {}):
                SubElement(
                    type_el,
                    "Filter",
                    filter=tag_kind,
                    filterType="string",
                    key=f"/library/sections/{section_id}/{tag_kind}?type={number}",
                    title=tag_kind.capitalize(),
                    type="filter",
                )
        for key, (direction, title) in (SORTS | EXTRA_SORTS.get(libtype, {})).items():
            if key in {"id", "updatedAt"}:
                continue  # plexapi adds these two itself (_manualSorts)
            SubElement(
                type_el,
                "Sort",
                defaultDirection=direction,
                descKey=f"{key}:desc",
                key=key,
                title=title,
            )
        for field, field_type in FIELDS.get(libtype, {}).items():
            if field in {"id", "index", "duration", "updatedAt", "lastRatedAt"}:
                continue  # plexapi adds these itself (_manualFields)
            SubElement(type_el, "Field", key=f"{libtype}.{field}", title=field, type=field_type)
    for field_type, operators in OPERATORS.items():
        type_el = SubElement(meta, "FieldType", type=field_type)
        for key, title in operators:
            SubElement(type_el, "Operator", key=key, title=title)
    return meta
