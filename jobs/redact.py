"""Secrets out of text that people will read: log lines at every level, a job's own log.

``RedactSecrets`` is the logging filter on the handlers of ``settings.LOGGING``: it rewrites
each record in place — its message, its traceback, its stack — so every handler after it
sees the clean record too. ``jobs.joblog`` runs every stored line through ``Redactor``.
Two nets, because a secret reaches a line in many ways:

* the *values* of the secret settings — any upper-case setting whose name ends in ``TOKEN``,
  ``SECRET``, ``PASSWORD`` or ``KEY`` (``SECRET_KEY``, ``PLAYLISTER_PLEX_TOKEN``,
  ``PLAYLISTER_LASTFM_API_KEY``, …), plus the passwords in ``DATABASES`` and ``REDIS_URL`` —
  wherever they appear, also URL-encoded;
* *shapes* that carry credentials whatever their value: the value after a secret's name in a
  query string, a header, JSON or a Python repr (``api_key=…``, ``X-Plex-Token: …``,
  ``"access_token": "…"``, ``Authorization: Bearer …``), a bare ``Bearer …``, and the
  password of a ``scheme://user:password@host`` URL.

At DEBUG, urllib3 logs every URL it requests: Last.fm's carries ``api_key=``. The job system
knows no service by name: the settings' names say what is secret.
"""

from __future__ import annotations

import functools
import logging
import re
import traceback
import warnings
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

if TYPE_CHECKING:
    from collections.abc import Iterable

REDACTED = "[redacted]"

_SECRET_SETTING = re.compile(r"(?:TOKEN|SECRET|PASSWORD|KEY)$")
# Shorter values would redact ordinary words; no real secret is this short.
MIN_SECRET_LENGTH = 6
# A name that says its value is secret. Not "auth" or "key" alone: "author: …" and "key of D"
# are music metadata; Authorization headers are named in full.
_NAMES = (
    r"[\w.-]*(?:token|secret|passw(?:or)?d|api[_-]?key|apikey|signature)[\w.-]*"
    r"|authorization|proxy-authorization|cookie|sessionid"
)
_NAMED = re.compile(
    rf"""(?P<key>(?<![\w-])["']?(?:{_NAMES})["']?\s*[:=]\s*["']?)"""
    r"""(?P<scheme>(?:bearer|basic|token|digest)\s+)?"""
    r"""(?P<value>[^\s"'&,;}\]<>]+)""",
    re.IGNORECASE,
)
# "Bearer x" / "Basic x" wherever it stands (a header printed without its name).
_SCHEME = re.compile(r"(?i)\b((?:bearer|basic)\s+)(?!\[redacted\])[A-Za-z0-9._~+/=-]{6,}")
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@", re.I)


def _url_password(url: object) -> str:
    if not isinstance(url, str) or not url:
        return ""
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


@functools.cache
def secret_values() -> tuple[str, ...]:
    """The configured secrets, looked up once per process (and again after a setting
    changes, as in tests)."""
    found: set[str] = set()
    with warnings.catch_warnings():
        # Reading every setting touches deprecated ones too (EMAIL_HOST_PASSWORD, …).
        warnings.simplefilter("ignore")
        for name in dir(settings):
            if name.isupper() and _SECRET_SETTING.search(name):
                value = getattr(settings, name, "")
                if isinstance(value, str):
                    found.add(value)
    for database in getattr(settings, "DATABASES", {}).values():
        found.add(str(database.get("PASSWORD") or ""))
    found.add(_url_password(getattr(settings, "REDIS_URL", "")))
    return tuple(found)


@receiver(setting_changed)
def _forget_secrets(**kwargs: Any) -> None:
    secret_values.cache_clear()


class Redactor:
    """Removes the given secret values (default: the configured ones) and every named
    secret from a text; build one for a batch of lines."""

    def __init__(self, values: Iterable[str] | None = None) -> None:
        spellings = {
            form
            for value in (secret_values() if values is None else values)
            if len(value) >= MIN_SECRET_LENGTH
            for form in (value, quote(value, safe=""), quote_plus(value))
        }
        # Longest first: a secret that contains another goes whole.
        alternatives = sorted(spellings, key=len, reverse=True)
        self._values = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    def __call__(self, text: str) -> str:
        if self._values is not None:
            text = self._values.sub(REDACTED, text)
        text = _NAMED.sub(lambda m: f"{m['key']}{m['scheme'] or ''}{REDACTED}", text)
        text = _SCHEME.sub(lambda m: m.group(1) + REDACTED, text)
        return _URL_PASSWORD.sub(rf"\g<head>{REDACTED}@", text)


def redact_secrets(text: str) -> str:
    """``text`` with every configured secret and every credential-shaped value replaced by
    ``[redacted]``."""
    return Redactor()(text)


class RedactSecrets(logging.Filter):
    """The filter of ``settings.LOGGING``'s handlers; ``values`` are more secrets to hide
    besides the configured ones."""

    def __init__(self, values: Iterable[str] = (), name: str = "") -> None:
        super().__init__(name)
        self._extra = tuple(v for v in values if v)
        self._cached: tuple[tuple[str, ...], Redactor] | None = None

    def _redactor(self) -> Redactor:
        secrets = self._extra + secret_values()
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
