"""Secrets out of text that people will read: ``redact_secrets(text)``.

Used on every line of a job's own log before it is stored (``jobs.joblog``); written so that
a logging filter can share it. Two nets, because a secret reaches a log line in many ways:

* the *values* of the secret settings — any upper-case setting whose name ends in ``TOKEN``,
  ``SECRET``, ``PASSWORD`` or ``KEY`` (``SECRET_KEY``, ``PLAYLISTER_*_TOKEN``, …), plus the
  passwords in ``DATABASES`` and ``REDIS_URL`` — wherever they appear, also URL-encoded;
* *shapes* that carry credentials whatever their value: ``Authorization: Bearer …``,
  ``?api_key=…``/``&token=…``-like query parameters, ``"password": "…"``-like pairs and the
  password of a ``scheme://user:password@host`` URL.

The job system knows no service by name: the settings' names say what is secret.
"""

from __future__ import annotations

import functools
import re
import warnings
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

REDACTED = "[redacted]"

_SECRET_SETTING = re.compile(r"(?:TOKEN|SECRET|PASSWORD|KEY)$")
# Shorter values would redact ordinary words; no real secret is this short.
_MIN_SECRET_LENGTH = 6
# Not "auth": "author: …" is music metadata; Authorization headers have their own shape.
_NAME = r"[\w.-]*(?:token|secret|passw(?:or)?d|api[_-]?key|apikey|signature)[\w.-]*"
_SHAPES = (
    # Authorization headers (and anything else that says "Bearer x" / "Basic x").
    re.compile(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{6,}"),
    # Query parameters and key=value pairs: api_key=…, X-Plex-Token=…, client_secret=….
    re.compile(rf"(?i)(\b{_NAME}=)[^&\s'\"<>]+"),
    # JSON-ish and header-ish pairs: "password": "…", X-Plex-Token: ….
    re.compile(rf"(?i)(['\"]?\b{_NAME}['\"]?\s*:\s*['\"]?)[^\s'\",&<>]+"),
    # Credentials in a URL.
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@/\s]+(?=@)"),
)


def _url_password(url: object) -> str:
    if not isinstance(url, str) or not url:
        return ""
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


@functools.cache
def secret_values() -> tuple[str, ...]:
    """The values to hide, longest first (so a secret containing another goes whole).

    Looked up once per process (and again after a setting changes, as in tests).
    """
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
    variants = {v for s in found for v in (s, quote(s, safe=""), quote_plus(s))}
    return tuple(
        sorted((v for v in variants if len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True)
    )


@receiver(setting_changed)
def _forget_secrets(**kwargs: Any) -> None:
    secret_values.cache_clear()


class Redactor:
    """``redact_secrets`` with the secret values looked up once (for a batch of lines)."""

    def __init__(self, values: tuple[str, ...] | list[str] | None = None) -> None:
        values = secret_values() if values is None else values
        self._values = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        if self._values is not None:
            text = self._values.sub(REDACTED, text)
        for shape in _SHAPES:
            text = shape.sub(lambda m: m.group(1) + REDACTED, text)
        return text


def redact_secrets(text: str) -> str:
    """``text`` with every secret setting's value and every credential-shaped token
    replaced by ``[redacted]``."""
    return Redactor()(text)
