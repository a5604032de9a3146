"""Seeded, plausible names for artists, albums and tracks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from enrichment.fakes.vocab import (
    ADJECTIVES,
    ENSEMBLES,
    FIRST_NAMES,
    LAST_NAMES,
    NOUNS,
    SYLLABLES,
    TITLE_WORDS,
)

if TYPE_CHECKING:
    import random
    from collections.abc import Sequence

_ARTICLES = ("The ", "A ", "An ")


def title_sort(title: str) -> str:
    """Plex's sort title: a leading English article is dropped ("The Owls" -> "Owls")."""
    for article in _ARTICLES:
        if title.startswith(article) and len(title) > len(article):
            return title[len(article) :]
    return title


def pick[T](rng: random.Random, values: Sequence[T]) -> T:
    """A uniformly chosen element; much cheaper than ``rng.choice`` in 100k-item loops."""
    return values[int(rng.random() * len(values))]


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(pick(rng, SYLLABLES) for _ in range(syllables)).capitalize()


def _person(rng: random.Random) -> str:
    return f"{pick(rng, FIRST_NAMES)} {pick(rng, LAST_NAMES)}"


# The first artists of every library use these shapes, so even a tiny library holds the
# tricky cases (accents, "&", a leading "The") that name matching must survive.
_FORCED_SHAPES = ("accent", "ampersand", "the")


def artist_name(rng: random.Random, index: int, used: set[str]) -> str:
    """A new artist name not in ``used`` (which it extends)."""
    shape = _FORCED_SHAPES[index] if index < len(_FORCED_SHAPES) else None
    for attempt in range(50):
        name = _artist_candidate(rng, shape if attempt < 10 else None, attempt)
        key = name.casefold()
        if key not in used:
            used.add(key)
            return name
    # Unreachable in practice: three random syllable words give ~27,000 combinations.
    name = f"{_word(rng, 2)} {_word(rng, 2)} {index}"
    used.add(name.casefold())
    return name


def _artist_candidate(rng: random.Random, shape: str | None, attempt: int) -> str:
    if shape == "accent":
        return f"{pick(rng, ('Élodie', 'Joaquín', 'Zoë', 'Björn'))} {pick(rng, LAST_NAMES)}"
    if shape == "ampersand":
        return f"{_person(rng)} & the {pick(rng, NOUNS)}"
    if shape == "the":
        return f"The {pick(rng, ADJECTIVES)} {pick(rng, NOUNS)}"
    roll = rng.random()
    if attempt > 20:
        roll = 0.99  # Crowded word-list shapes: fall back to the syllable space.
    if roll < 0.20:
        return f"The {pick(rng, ADJECTIVES)} {pick(rng, NOUNS)}"
    if roll < 0.33:
        return f"{pick(rng, ADJECTIVES)} {pick(rng, NOUNS)}"
    if roll < 0.55:
        return _person(rng)
    if roll < 0.60:
        return f"{_person(rng)} & the {pick(rng, NOUNS)}"
    if roll < 0.65:
        return f"{pick(rng, NOUNS)} & {pick(rng, NOUNS)}"
    if roll < 0.69:
        return f"{pick(rng, LAST_NAMES)} {pick(rng, ENSEMBLES)}"
    if roll < 0.72:
        return f"DJ {_word(rng, 2)}"
    if roll < 0.86:
        return _word(rng, rng.randint(2, 3))
    return f"{_word(rng, 2)} {_word(rng, rng.randint(1, 2))}"


def album_title(rng: random.Random) -> str:
    """A plausible album title."""
    roll = rng.random()
    if roll < 0.3:
        return f"{pick(rng, ADJECTIVES)} {pick(rng, NOUNS)}"
    if roll < 0.5:
        return f"{pick(rng, TITLE_WORDS)} of {pick(rng, NOUNS)}"
    if roll < 0.6:
        return f"Songs for {pick(rng, FIRST_NAMES)}"
    if roll < 0.7:
        return f"Live at the {pick(rng, NOUNS).rstrip('s')}"
    if roll < 0.85:
        return _word(rng, rng.randint(2, 3))
    return f"{pick(rng, TITLE_WORDS)} {pick(rng, TITLE_WORDS)}"


def track_title(rng: random.Random) -> str:
    """A plausible track title."""
    roll = rng.random()
    if roll < 0.4:
        return f"{pick(rng, TITLE_WORDS)} {pick(rng, TITLE_WORDS)}"
    if roll < 0.6:
        return f"{pick(rng, ADJECTIVES)} {pick(rng, TITLE_WORDS)}"
    if roll < 0.75:
        return pick(rng, TITLE_WORDS)
    if roll < 0.9:
        return f"{pick(rng, TITLE_WORDS)} ({pick(rng, ('Reprise', 'Live', 'Demo', 'Edit'))})"
    return f"{pick(rng, NOUNS)} & {pick(rng, NOUNS)}"
