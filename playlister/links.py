"""Links of the playlist pages, each URL name reversed once.

``reverse`` costs some 35 µs (it matches the arguments against the pattern's converters and
quotes them), and the Playlists page links each of its cards and custom playlists ten times:
130 reversals were a fifth of the page's time. Here each name is reversed once, with a
placeholder argument, into a pattern that every later link only fills in.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# Valid for the int and str converters alike, and in no URL of this project.
_MARK = "7310925364"
# What ``reverse`` leaves unquoted in an argument (django.urls.resolvers).
_SAFE = "!$&'()*+,;=/~:@"
_NO_ARG = object()


@lru_cache(maxsize=256)
def _pattern(name: str, with_arg: bool, prefix: str, urlconf: str) -> tuple[str, str]:
    """The URL ``name`` reverses to, split where its one argument goes (if it has one). The
    script prefix and the URLconf are in the cache key: either may change (a test's
    settings)."""
    if not with_arg:
        return reverse(name, urlconf=urlconf), ""
    url = reverse(name, urlconf=urlconf, args=[_MARK])
    before, mark, after = url.partition(_MARK)
    if not mark or _MARK in after:
        raise ValueError(f"{name}: one argument expected in {url}")
    return before, after


def url_of(name: str, arg: object = _NO_ARG) -> str:
    """``reverse(name, args=[arg])`` for a URL of one argument (an id, a card's key), or
    ``reverse(name)``."""
    urlconf = str(get_urlconf() or settings.ROOT_URLCONF)
    before, after = _pattern(name, arg is not _NO_ARG, get_script_prefix(), urlconf)
    if arg is _NO_ARG:
        return before
    text = str(arg)
    if not text or "/" in text:
        # No path segment (what every converter here matches): ``reverse`` refuses it, and
        # so must this, rather than link somewhere else.
        return reverse(name, urlconf=urlconf, args=[arg])
    return f"{before}{quote(text, safe=_SAFE)}{after}"
