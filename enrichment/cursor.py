"""Where a cache warm stands, so that a stopped one continues (``jobs.checkpoint``).

The cursor of a warm is *the position of the last item done*, not an index: items are
taken in ascending position (for the library warmers, the Plex rating key, which Plex never
reuses and gives new items above the old ones), and resuming skips the items at or below
the cursor in the library as it is *now*. So an artist added meanwhile is warmed, one
deleted is simply gone, a renamed one keeps its place, and nothing is done twice or
skipped because the listing shifted.

"Done" means counted *and* stored: provider calls finish out of order, and outcomes wait in
the writer's buffer; the position only moves over a prefix of items that are all counted,
at a moment when nothing counted is waiting to be written. The cursor also carries the
run's counters, so the result of a resumed warm covers the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from enrichment.plex import PlexItem

# A position is a JSON list compared element by element (Python compares lists so).
Position = list[Any]


def rating_key_position(item: PlexItem) -> Position:
    """Numeric rating keys in numeric order, anything else after them, in text order."""
    key = item.rating_key
    return [0, int(key), ""] if key.isdigit() else [1, 0, key]


@dataclass(frozen=True)
class WarmCursor:
    after: Position
    counts: dict[str, int] = field(default_factory=dict)
    # Which part of a run of several warms (``cache-refresh``: artists, then albums).
    part: int = 0
    # Items of this part at or before ``after`` (``cache-refresh`` keeps its limit by it).
    done: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"after": self.after, "counts": self.counts, "part": self.part, "done": self.done}

    @classmethod
    def parse(cls, data: object) -> WarmCursor | None:
        """The cursor a checkpoint holds; None (start from the beginning) for anything else."""
        if not isinstance(data, dict) or not isinstance(data.get("after"), list):
            return None
        counts = data.get("counts") or {}
        if not isinstance(counts, dict):
            return None
        try:
            return cls(
                after=list(data["after"]),
                counts={str(k): int(v) for k, v in counts.items()},  # WarmResult keeps its own
                part=int(data.get("part", 0)),
                done=max(0, int(data.get("done", 0))),
            )
        except (TypeError, ValueError, OverflowError):
            return None


def after_cursor(items: list[PlexItem], position: Any, after: Position) -> list[PlexItem]:
    """The items beyond ``after``; positions of another shape (an old cursor) compare as
    beyond, so nothing is skipped that should not be."""

    def beyond(item: PlexItem) -> bool:
        try:
            return bool(position(item) > after)
        except TypeError:
            return True

    return [item for item in items if beyond(item)]


class InOrder[T]:
    """Outcomes counted in the items' order, whatever order they finish in.

    ``walk`` holds the items still to do, in position order; ``cached[i]`` says item ``i``
    needs no provider call. ``drain`` yields the outcome of each item whose turn has come
    (None for a cached one) and stops at the first that is still on its way.
    """

    def __init__(self, walk: list[PlexItem], cached: list[bool]) -> None:
        self.walk = walk
        self.cached = cached
        self.done = 0
        self._ready: dict[int, T] = {}

    def finished(self, index: int, outcome: T) -> None:
        self._ready[index] = outcome

    def drain(self) -> Iterator[T | None]:
        while self.done < len(self.walk):
            index = self.done
            if self.cached[index]:
                outcome = None
            elif index in self._ready:
                outcome = self._ready.pop(index)
            else:
                return
            # Counted from here on, even if counting it raises (a cancel at a write).
            self.done += 1
            yield outcome

    @property
    def last_done(self) -> PlexItem | None:
        return self.walk[self.done - 1] if self.done else None
