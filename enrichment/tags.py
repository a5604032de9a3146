"""Merging genre and mood tags from several providers into one clean list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from enrichment.names import normalize_tag

if TYPE_CHECKING:
    from collections.abc import Iterable

    from enrichment.lastfm import Tag

LASTFM_MIN_COUNT = 50
LASTFM_TOP = 10


def merge_tags(*groups: Iterable[str]) -> list[str]:
    """One spelling per tag, first occurrence wins, order kept; no empty tag."""
    merged = dict.fromkeys(normalize_tag(tag) for group in groups for tag in group)
    merged.pop("", None)
    return list(merged)


def useful_lastfm_tags(tags: Iterable[Tag]) -> list[str]:
    """Last.fm's crowd tags worth keeping: weight above 50, not personal ("seen live"), the
    ten strongest."""
    ignored = {normalize_tag(t) for t in settings.PLAYLISTER_LASTFM_IGNORE_TAGS}
    kept = [
        t
        for t in sorted(tags, key=lambda t: -t.count)
        if t.count > LASTFM_MIN_COUNT and normalize_tag(t.name) not in ignored
    ]
    return [t.name for t in kept[:LASTFM_TOP]]
