"""Normalised names: the cache key for an artist or album whatever its spelling in Plex."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalize_name(name: str) -> str:
    """Fold case, accents, '&' and whitespace: "Björk" and "bjork", "Simon & Garfunkel" and
    "simon and garfunkel" share one cache entry."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = stripped.casefold().replace("&", " and ")
    return _SPACES.sub(" ", folded).strip()


def normalize_tag(tag: str) -> str:
    """Genre tags from different providers in one spelling: "Hip-Hop", "hip hop" → "hip hop"."""
    return _SPACES.sub(" ", tag.casefold().replace("-", " ").replace("_", " ")).strip()
