"""Bulk upserts that hold on every backend.

PostgreSQL refuses an ``INSERT … ON CONFLICT DO UPDATE`` that would touch one row twice
("command cannot affect row a second time"); SQLite quietly lets the last row win. A batch
therefore carries at most one row per conflict key, the rows of one key merged first. The key
is read from the row's unique fields as they will be stored (normalised names, clipped to the
column), so two spellings that the database would see as one row are one row here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db import models

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

M = TypeVar("M", bound=models.Model)


def conflict_key(row: models.Model, unique_fields: Sequence[str]) -> tuple[object, ...]:
    return tuple(getattr(row, name) for name in unique_fields)


def merged_by_key[M: models.Model](
    rows: Iterable[M], unique_fields: Sequence[str], merge: Callable[[M, M], M] | None = None
) -> list[M]:
    """One row per conflict key, in first-seen order; ``merge(kept, later)`` combines two
    rows of one key (default: the later row wins)."""
    kept: dict[tuple[object, ...], M] = {}
    for row in rows:
        key = conflict_key(row, unique_fields)
        earlier = kept.get(key)
        kept[key] = row if earlier is None or merge is None else merge(earlier, row)
    return list(kept.values())


def upsert[M: models.Model](
    model: type[M],
    rows: Iterable[M],
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
    merge: Callable[[M, M], M] | None = None,
) -> list[M]:
    """``bulk_create(update_conflicts=True)`` of ``rows`` merged by their conflict key; returns
    the rows written."""
    unique = merged_by_key(rows, unique_fields, merge)
    if unique:
        model._default_manager.bulk_create(
            unique,
            update_conflicts=True,
            unique_fields=list(unique_fields),
            update_fields=list(update_fields),
        )
    return unique


def clip(model: type[models.Model], field: str, value: str) -> str:
    """``value`` cut to the column's ``max_length`` (PostgreSQL refuses longer values, and a
    cut key must be the key the database compares)."""
    max_length = getattr(model._meta.get_field(field), "max_length", None)
    return value[:max_length] if max_length else value
