"""Secrets never reach a log line, at any level: the filter on the logging handlers.

At DEBUG, urllib3 logs every URL it requests, and Last.fm's carries ``api_key=``. The runs
here go against the fakes with real-looking secrets for Plex, Last.fm, Spotify and
AudioMuse-AI, and read what was logged twice: the records pytest captured (caplog) and what
the project's handler wrote; and, in a ``manage.py`` subprocess at DEBUG, its stderr."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from urllib.parse import quote

import pytest

from enrichment.audiomuse_sync import sync_audio_features
from enrichment.demo import demo_settings, start_demo
from enrichment.warm import warm_album_cache, warm_artist_cache
from jobs.redact import REDACTED as MASK
from jobs.redact import Redactor, RedactSecrets
from tests.cluster import BASE_DIR, subprocess_env

SECRET = "s3cr3t-Value/with+chars"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (
            'http://127.0.0.1:80 "GET /2.0/?method=artist.getTopTags&artist=Abba'
            '&api_key=0123456789abcdef&format=json HTTP/1.1" 200 90',
            "&api_key=[redacted]&format=json",
        ),
        ("GET /library?X-Plex-Token=abcdefgh123 200", "X-Plex-Token=[redacted]"),
        ("headers: {'X-Plex-Token': 'abcdefgh123'}", "'X-Plex-Token': '[redacted]'"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "Authorization: Bearer [redacted]"),
        ('{"access_token": "BQD-abc_123", "token_type": "Bearer"}', '"access_token": "[redacted]"'),
        ("grant_type=client_credentials&client_secret=abc123xyz", "client_secret=[redacted]"),
        ("redis://:hunter22@127.0.0.1:6379/1", "redis://:[redacted]@127.0.0.1"),
        ("postgres://app:pa55word@db/playlister", "postgres://app:[redacted]@db"),
        (f"a configured value {SECRET} and {quote(SECRET, safe='')}", "value [redacted] and"),
    ],
)
def test_secrets_are_masked_in_urls_headers_json_and_as_values(line, kept):
    redacted = Redactor([SECRET])(line)
    assert kept in redacted, redacted
    for secret in ("0123456789abcdef", "abcdefgh123", "eyJhbGciOi", "BQD-abc_123", "abc123xyz"):
        assert secret not in redacted
    assert "hunter22" not in redacted and "pa55word" not in redacted and SECRET not in redacted


def test_ordinary_lines_are_left_alone():
    line = "job 12 (cache-warm) started, attempt 1; 40 artists, token bucket full"
    assert Redactor(["abc"])(line) == line  # too short to be a secret: not masked


def test_a_traceback_and_the_arguments_are_redacted_too():
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "calling %s", ("https://h/?api_key=k3y-k3y-k3y",), None
    )
    try:
        raise ValueError(f"failed: https://h/?token={SECRET}")
    except ValueError:
        record.exc_info = sys.exc_info()
    RedactSecrets(values=[SECRET]).filter(record)
    text = logging.Formatter().format(record)
    assert "k3y-k3y-k3y" not in text and SECRET not in text
    assert f"api_key={MASK}" in text and "ValueError: failed" in text


def _handler_output() -> tuple[logging.Handler, io.StringIO]:
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecrets) for f in h.filters)
    )
    return handler, io.StringIO()


@pytest.fixture
def demo():
    running = start_demo(artists=12, seed=3, latency=0)
    yield running
    running.stop()


def _secrets(values: dict[str, str]) -> list[str]:
    return [
        values[name]
        for name in (
            "PLAYLISTER_PLEX_TOKEN",
            "PLAYLISTER_LASTFM_API_KEY",
            "PLAYLISTER_SPOTIFY_CLIENT_SECRET",
            "PLAYLISTER_AUDIOMUSE_TOKEN",
        )
    ]


@pytest.mark.django_db
def test_a_debug_level_warm_and_sync_log_no_secret(demo, settings, caplog):
    values = demo_settings(demo)
    for name, value in values.items():
        setattr(settings, name, value)
    handler, output = _handler_output()
    previous = handler.setStream(output)
    caplog.set_level(logging.DEBUG)
    try:
        warm_artist_cache(concurrency=2)
        warm_album_cache(concurrency=2)
        sync_audio_features()
    finally:
        handler.setStream(previous)
    logged = [output.getvalue(), caplog.text, *(r.getMessage() for r in caplog.records)]
    # The lines that used to carry a key are there, with the key masked.
    assert f"api_key={MASK}" in output.getvalue()
    assert f"api_key={MASK}" in caplog.text
    for secret in _secrets(values):
        assert all(secret not in text for text in logged), secret


@pytest.mark.django_db(transaction=True)
def test_a_debug_level_command_logs_no_secret(demo):
    values = demo_settings(demo)
    logged = ""
    for command in ("warm_cache", "sync_audiomuse"):
        proc = subprocess.run(
            [sys.executable, "manage.py", command],
            cwd=BASE_DIR,
            env=subprocess_env(**values, PLAYLISTER_LOG_LEVEL="DEBUG"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "DEBUG" in proc.stderr
        logged += proc.stderr + proc.stdout
    assert f"api_key={MASK}" in logged
    for secret in _secrets(values):
        assert secret not in logged, secret
