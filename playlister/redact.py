"""Secrets out of every log line, at every level.

``RedactSecrets`` is a logging filter on the handlers of ``settings.LOGGING``. It rewrites
each record in place — its message, its traceback, its stack — so every handler after it
sees the clean record too. What goes:

- the configured secret values themselves (read from settings when a record comes, so a
  changed setting is honoured), also URL-encoded;
- the value after a secret's name in a query string, a header, JSON or a Python repr:
  ``api_key=…``, ``X-Plex-Token: …``, ``"access_token": "…"``, ``Authorization: Bearer …``;
- the password in a URL (``redis://:secret@host``).

At DEBUG, urllib3 logs every URL it requests: Last.fm's carries ``api_key=``.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

from django.conf import settings

if TYPE_CHECKING:
    from collections.abc import Iterable

MASK = "[redacted]"
# Shorter values would mask ordinary words; real keys and tokens are far longer.
MIN_SECRET_LENGTH = 6

_NAMES = (
    r"api[_-]?key|apikey|x-api-key|x-plex-token|access[_-]?token|refresh[_-]?token"
    r"|id[_-]?token|auth[_-]?token|token|client[_-]?secret|secret|password|passwd"
    r"|signature|authorization|proxy-authorization|cookie|sessionid|csrftoken"
)
_NAMED = re.compile(
    rf"""(?P<key>(?<![\w-])["']?(?:{_NAMES})["']?\s*[:=]\s*["']?)"""
    r"""(?P<scheme>(?:bearer|basic|token|digest)\s+)?"""
    r"""(?P<value>[^\s"'&,;}\]<>]+)""",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@", re.I)


def _mask_named(match: re.Match[str]) -> str:
    return f"{match['key']}{match['scheme'] or ''}{MASK}"


class Redactor:
    """Removes the given secret values and every named secret from a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        spellings = {
            form
            for value in secrets
            if len(value) >= MIN_SECRET_LENGTH
            for form in (value, quote(value, safe=""), quote_plus(value))
        }
        # Longest first: a secret that contains another goes whole.
        alternatives = sorted(spellings, key=len, reverse=True)
        self._values = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    def __call__(self, text: str) -> str:
        if self._values is not None:
            text = self._values.sub(MASK, text)
        text = _NAMED.sub(_mask_named, text)
        return _URL_PASSWORD.sub(rf"\g<head>{MASK}@", text)


class RedactSecrets(logging.Filter):
    """The filter of ``settings.LOGGING``'s handlers: ``setting_names`` name the settings
    that hold secrets, ``values`` are more secrets known when logging is configured."""

    def __init__(
        self, setting_names: Iterable[str] = (), values: Iterable[str] = (), name: str = ""
    ) -> None:
        super().__init__(name)
        self._setting_names = tuple(setting_names)
        self._values = tuple(v for v in values if v)
        self._cached: tuple[tuple[str, ...], Redactor] | None = None

    def _redactor(self) -> Redactor:
        secrets = self._values + tuple(
            str(value)
            for name in self._setting_names
            if (value := getattr(settings, name, "")) and isinstance(value, str)
        )
        if self._cached is None or self._cached[0] != secrets:
            self._cached = (secrets, Redactor(secrets))
        return self._cached[1]

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self._redactor()
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the handler's to report
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
