"""Playlister settings.

Everything is read from the environment (and an optional ``.env`` file) with django-environ;
``.env.example`` documents every variable. With nothing configured Playlister runs in the
*embedded* mode: a SQLite file, the Django-Q2 ORM broker and file-based caches. Setting
``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` switches to the *scaled* mode.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ

# plexapi reads these when it is imported: without them every attribute a listing leaves out
# costs one more request per item (the classic N+1), and datetimes come back naive.
os.environ.setdefault("PLEXAPI_PLEXAPI_AUTORELOAD", "false")
os.environ.setdefault("PLEXAPI_PLEXAPI_TIMEZONE", "UTC")

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_env_file = BASE_DIR / ".env"
if _env_file.is_file():
    environ.Env.read_env(_env_file)


def _secret(name: str, default: str = "") -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker secrets)."""
    file_path = env.str(f"{name}_FILE", default="")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return str(env.str(name, default=default))


DATA_DIR = Path(env.str("PLAYLISTER_DATA_DIR", default=str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

# While `make run` serves the demo library (no Plex configured), it writes the fakes' settings
# here so that every process — the cluster, a `manage.py warm_cache` in another terminal —
# finds them; the file goes when `make run` stops.
DEMO_ENV_FILE = DATA_DIR / "demo.env"
if not env.str("PLAYLISTER_PLEX_URL", default="") and DEMO_ENV_FILE.is_file():
    environ.Env.read_env(DEMO_ENV_FILE)

DEBUG = env.bool("PLAYLISTER_DEBUG", default=False)


def _secret_key() -> str:
    configured = _secret("PLAYLISTER_SECRET_KEY")
    if configured:
        return configured
    # Embedded mode needs no setup: generate a key once and keep it beside the database so
    # sessions survive restarts. A deployment sets PLAYLISTER_SECRET_KEY instead.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key(), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("PLAYLISTER_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("PLAYLISTER_CSRF_TRUSTED_ORIGINS", default=[])
# A JSON 403 on the API's paths, Django's page elsewhere.
CSRF_FAILURE_VIEW = "jobs.views.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: runserver leaves static files to WhiteNoise, as every server does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    "jobs",
    "enrichment",
    "playlister",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Times in the viewer's time zone (a cookie the page's script sets).
    "jobs.views.zone.viewer_time_zone",
]

ROOT_URLCONF = "playlister.urls"
WSGI_APPLICATION = "playlister.wsgi.application"
ASGI_APPLICATION = "playlister.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'playlister.sqlite3'}")
}
# Reconnecting per query costs more than the queries: Django-Q2 calls close_old_connections()
# on every broker access, and on SQLite each reconnect re-runs the PRAGMAs below.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("PLAYLISTER_DB_CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if IS_SQLITE:
    # Several processes (web, two workers, CLI) write to one file: WAL lets readers run beside
    # the writer, IMMEDIATE takes the write lock when a transaction starts (no deadlocked
    # upgrade from a read lock), and the busy timeout makes writers wait instead of failing.
    _busy_ms = env.int("PLAYLISTER_SQLITE_BUSY_TIMEOUT_MS", default=20_000)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": _busy_ms / 1000,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            f"PRAGMA busy_timeout={_busy_ms};"
            "PRAGMA foreign_keys=ON;"
        ),
        **DATABASES["default"].get("OPTIONS", {}),
    }
    DATABASES["default"].setdefault("TEST", {})
    # The test database must be a file: forked cluster workers cannot see an in-memory one.
    DATABASES["default"]["TEST"].setdefault("NAME", str(DATA_DIR / "test_playlister.sqlite3"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Caches and the live store ----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
PLAYLISTER_CACHE_PREFIX = env.str("PLAYLISTER_CACHE_PREFIX", default="playlister")
_KEY_PREFIX = PLAYLISTER_CACHE_PREFIX
if REDIS_URL:
    # django-redis keeps one redis-py client per server; Django's own backend builds one per
    # operation, which costs more CPU than the round trip (docs/design.md, "Live store").
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _KEY_PREFIX,
        },
        "live": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{_KEY_PREFIX}:live",
        },
    }
else:
    # File caches are shared by every process on the machine (LocMemCache is not); the live
    # store gets its own directory so Django-Q2's status writes to "default" never cull it.
    _cache_dir = DATA_DIR / "cache"
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(_cache_dir / "default"),
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        },
        "live": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(_cache_dir / "live"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        },
    }

# --- Jobs -------------------------------------------------------------------------------------
PLAYLISTER_JOB_WORKERS = env.int("PLAYLISTER_JOB_WORKERS", default=2)
# A running job proves it is alive this often (seconds); see docs/design.md §3.
PLAYLISTER_JOB_HEARTBEAT = env.float("PLAYLISTER_JOB_HEARTBEAT", default=30.0)
# A running job whose heartbeat is older than this (seconds) has lost its worker.
PLAYLISTER_JOB_STALE_AFTER = env.float("PLAYLISTER_JOB_STALE_AFTER", default=90.0)
# Finished jobs are kept this many days, then pruned by the maintenance.
PLAYLISTER_JOB_RETENTION_DAYS = env.int("PLAYLISTER_JOB_RETENTION_DAYS", default=90)
# Seconds between maintenance passes (the cluster's scheduler looks every ~30 s).
PLAYLISTER_MAINTENANCE_INTERVAL = env.int("PLAYLISTER_MAINTENANCE_INTERVAL", default=30)
# The longest a single job may run before the cluster stops it (seconds).
PLAYLISTER_JOB_TIMEOUT = env.int("PLAYLISTER_JOB_TIMEOUT", default=6 * 3600)
# ``migrate`` installs the default schedules that are missing (never changing existing ones).
PLAYLISTER_SCHEDULE_DEFAULTS = env.bool("PLAYLISTER_SCHEDULE_DEFAULTS", default=True)
PLAYLISTER_CLUSTER_NAME = env.str("PLAYLISTER_CLUSTER_NAME", default="playlister")
# Bearer token a Prometheus server sends to read /metrics (unset: only logged-in users can).
PLAYLISTER_METRICS_TOKEN = _secret("PLAYLISTER_METRICS_TOKEN")

Q_CLUSTER: dict[str, Any] = {
    "name": PLAYLISTER_CLUSTER_NAME,
    "workers": PLAYLISTER_JOB_WORKERS,
    # Recycling (after 500 tickets) bounds any slow leak in long-lived workers.
    "recycle": 500,
    "timeout": PLAYLISTER_JOB_TIMEOUT,
    # Must exceed timeout, or the ORM broker hands a running ticket to a second worker.
    "retry": PLAYLISTER_JOB_TIMEOUT + 600,
    # Tickets are idempotent and the runner records every outcome itself: Django-Q2 must not
    # re-deliver, retry or keep an unbounded result history.
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": 100,
    "catch_up": False,
    "label": "Job cluster",
    "poll": env.float("PLAYLISTER_BROKER_POLL", default=0.1),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- External services ----------------------------------------------------------------------
# Plex: the library Playlister reads and writes playlists to. Unset → the demo library.
PLAYLISTER_PLEX_URL = env.str("PLAYLISTER_PLEX_URL", default="")
PLAYLISTER_PLEX_TOKEN = _secret("PLAYLISTER_PLEX_TOKEN")
# The Plex music section to use, by title or key; empty → the first one that is not hidden.
PLAYLISTER_PLEX_SECTION = env.str("PLAYLISTER_PLEX_SECTION", default="")
# The titles of the playlists Playlister writes (changing one renames that playlist in Plex).
PLAYLISTER_PLAYLIST_TITLES = {
    "morning": env.str("PLAYLISTER_TITLE_MORNING", default="🌅 Daily Morning Mix"),
    "afternoon": env.str("PLAYLISTER_TITLE_AFTERNOON", default="☀️ Daily Afternoon Mix"),
    "evening": env.str("PLAYLISTER_TITLE_EVENING", default="🌙 Daily Evening Mix"),
    "discovery": env.str("PLAYLISTER_TITLE_DISCOVERY", default="🔍 Weekly Discovery"),
    "throwback": env.str("PLAYLISTER_TITLE_THROWBACK", default="⏪ Weekly Throwback"),
}
# Genres no playlist ever uses (comma-separated; default none), and genres allowed only
# between two dates ("christmas:12-01:12-26"). The initial values of the exclusions: once
# they are saved on the Playlists page, the database wins (docs/design.md §6 Playlists).
PLAYLISTER_EXCLUDE_GENRES = env.list("PLAYLISTER_EXCLUDE_GENRES", default=[])
PLAYLISTER_SEASONAL_GENRES = env.list("PLAYLISTER_SEASONAL_GENRES", default=[])
# Where "Open in Plex" links point: Plex Web's address before its "#!" (plexapi's default).
PLAYLISTER_PLEX_WEB_URL = env.str("PLAYLISTER_PLEX_WEB_URL", default="https://app.plex.tv/desktop/")
PLAYLISTER_LASTFM_URL = env.str(
    "PLAYLISTER_LASTFM_URL", default="https://ws.audioscrobbler.com/2.0/"
)
PLAYLISTER_LASTFM_API_KEY = _secret("PLAYLISTER_LASTFM_API_KEY")
# Requests per second to Last.fm, across every process of the deployment.
PLAYLISTER_LASTFM_RATE = env.float("PLAYLISTER_LASTFM_RATE", default=5.0)
PLAYLISTER_LASTFM_IGNORE_TAGS = env.list(
    "PLAYLISTER_LASTFM_IGNORE_TAGS",
    default=["seen live", "favorite", "favourites", "albums i own", "beautiful"],
)
PLAYLISTER_SPOTIFY_TOKEN_URL = env.str(
    "PLAYLISTER_SPOTIFY_TOKEN_URL", default="https://accounts.spotify.com/api/token"
)
PLAYLISTER_SPOTIFY_API_URL = env.str(
    "PLAYLISTER_SPOTIFY_API_URL", default="https://api.spotify.com/v1/"
)
PLAYLISTER_SPOTIFY_CLIENT_ID = env.str("PLAYLISTER_SPOTIFY_CLIENT_ID", default="")
PLAYLISTER_SPOTIFY_CLIENT_SECRET = _secret("PLAYLISTER_SPOTIFY_CLIENT_SECRET")
PLAYLISTER_SPOTIFY_RATE = env.float("PLAYLISTER_SPOTIFY_RATE", default=5.0)
PLAYLISTER_AUDIOMUSE_URL = env.str("PLAYLISTER_AUDIOMUSE_URL", default="")
PLAYLISTER_AUDIOMUSE_TOKEN = _secret("PLAYLISTER_AUDIOMUSE_TOKEN")
# Seconds to wait for one HTTP response from a provider.
PLAYLISTER_HTTP_TIMEOUT = env.float("PLAYLISTER_HTTP_TIMEOUT", default=10.0)
# Attempts per provider request (network errors, 429, 5xx) before the item counts as failed.
PLAYLISTER_HTTP_ATTEMPTS = env.int("PLAYLISTER_HTTP_ATTEMPTS", default=4)

# --- Auth, i18n, static -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Every page, poll and API call reads its session: from the cache (Redis, or the file cache)
# that is one round trip less than a query; the database keeps it durable behind the cache.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# ``make run`` creates this user when no admin exists; the password is generated unless set.
PLAYLISTER_ADMIN_USERNAME = env.str("PLAYLISTER_ADMIN_USERNAME", default="admin")
PLAYLISTER_ADMIN_PASSWORD = _secret("PLAYLISTER_ADMIN_PASSWORD")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("PLAYLISTER_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves the files where the finders find them (static/ and the apps' folders): no
# collectstatic step, the same under runserver, uvicorn and the tests. It indexes them when
# the server starts (with PLAYLISTER_DEBUG on it looks again on every request).
WHITENOISE_USE_FINDERS = True
# Unversioned files (app.css, the admin's) change with the code: revalidated on every use
# (an ETag, so a 304). Vendored files carry their version in their name: cached for good.
WHITENOISE_MAX_AGE = 0
WHITENOISE_IMMUTABLE_FILE_TEST = rf"^/{STATIC_URL}vendor/"

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Secrets out of every line: the settings named *TOKEN/*SECRET/*PASSWORD/*KEY, the
        # database and Redis passwords, and credential shapes (api_key=…, Bearer …).
        "redact": {"()": "jobs.redact.RedactSecrets"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env.str("PLAYLISTER_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"level": "WARNING"},
        # Django-Q2 adds a handler of its own (past the filter) unless the logger has one.
        "django-q": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
