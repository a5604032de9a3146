"""Duplicate names, as real libraries have them, put into every generated library.

A Plex library holds the same artist twice (two MusicBrainz ids, a tagging slip) and the same
album twice (a deluxe edition filed under the plain title), spelled alike or in another case
or Unicode form. Everything keyed by a normalised name (the genre caches) must survive that,
so every generated library of ``MIN_ARTISTS`` artists or more carries each kind:

- artists: an exact copy of a name, an upper-case copy, a decomposed-Unicode copy of an
  accented name, "and" for "&"; each copy's first album also takes its original's first
  album title, so the (artist, album) pair repeats across two artists too;
- albums of one artist: a second album titled like the first, exactly, in another case, and
  with an accent added.

The step draws from its own random stream, so the rest of a library (tags, plays, keys)
stays what it would be without it.
"""

from __future__ import annotations

import random
import unicodedata
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

MIN_ARTISTS = 10
# Artist 3 and the last one are renamed by the real-server shapes (shapes.py: a CJK name, the
# "Various Artists" compilation): a duplicate there would not survive.
_RESERVED_FIRST, _RESERVED_LAST = 3, 1


class _Named(Protocol):
    title: str


class _AlbumLike(Protocol):
    title: str

    @property
    def artist(self) -> _Named: ...


def unicode_variant(title: str) -> str:
    """Another code-point spelling that normalises alike: decomposed accents, else an
    accent added to the first "e" (Beyonce / Beyoncé), else upper case."""
    decomposed = unicodedata.normalize("NFD", title)
    if decomposed != title:
        return decomposed
    if "e" in title:
        return title.replace("e", "é", 1)
    return title.upper()


def _and_variant(title: str) -> str:
    return title.replace(" & ", " and ", 1) if " & " in title else title.lower()


_ARTIST_VARIANTS: tuple[Callable[[str], str], ...] = (
    unicode_variant,  # of artist 0, the accented one (see names._FORCED_SHAPES)
    _and_variant,  # of artist 1, the one with "&"
    str,  # an exact copy of artist 2
    str.upper,  # of a random artist
)
_ALBUM_VARIANTS: tuple[Callable[[str], str], ...] = (str, str.lower, unicode_variant)


def add_duplicate_names(seed: int, artists: Sequence[_Named], albums: Sequence[_AlbumLike]) -> None:
    """Rename a few drafts in place so that the library holds every kind of duplicate."""
    if len(artists) < MIN_ARTISTS:
        return
    rng = random.Random(f"duplicate-names:{seed}")
    free = range(_RESERVED_FIRST + 1, len(artists) - _RESERVED_LAST)
    later = rng.sample(free, len(_ARTIST_VARIANTS) + 1)
    originals = [0, 1, 2, later.pop()]
    first_album: dict[int, _AlbumLike] = {}
    by_artist: dict[int, list[_AlbumLike]] = {}
    for album in albums:
        by_artist.setdefault(id(album.artist), []).append(album)
        first_album.setdefault(id(album.artist), album)
    for original, copy, variant in zip(originals, later, _ARTIST_VARIANTS, strict=True):
        source, target = artists[original], artists[copy]
        target.title = variant(source.title)
        if id(source) in first_album and id(target) in first_album:
            first_album[id(target)].title = first_album[id(source)].title
    involved = {id(artists[i]) for i in (*originals, *later)}
    several = [group for key, group in by_artist.items() if len(group) >= 2 and key not in involved]
    chosen = rng.sample(several, min(len(_ALBUM_VARIANTS), len(several)))
    for group, variant in zip(chosen, _ALBUM_VARIANTS[: len(chosen)], strict=True):
        group[1].title = variant(group[0].title)
