"""The one place that reads the process environment into typed settings values."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
# Every variable the platform reads through this module: never usable as a provider's key (modelgraph/secrets.py).
_READ: set[str] = set()


def is_platform_env(name: str) -> bool:
    """Whether the platform's own settings read `name` (so far in this process); no copy of the set."""
    return name in _READ


def env_str(name: str, default: str = "") -> str:
    _READ.add(name)
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    _READ.add(name)
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    _READ.add(name)
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    _READ.add(name)
    value = os.environ.get(name)
    if not value:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_prefixed(prefix: str) -> dict[str, str]:
    """Every non-empty variable named PREFIX<SUFFIX>, keyed by the lower-cased suffix
    (`INGESTION_BASE_URL_OPENAI=…` → `{"openai": …}`): per-name overrides without a list of names to keep in step."""
    found = {}
    for name, value in os.environ.items():
        if name.startswith(prefix) and len(name) > len(prefix) and value:
            _READ.add(name)
            found[name[len(prefix) :].lower()] = value
    return found


def sqlite_database(name: str) -> dict:
    """The embedded database, shared by the web server, the django-q2 workers and the ORM broker's queue.

    With SQLite's defaults a transaction that reads first and writes later (update_or_create, the broker taking a
    task) fails at once with "database is locked" when another process writes meanwhile: BEGIN IMMEDIATE takes the
    write lock up front, so a writer waits for its turn (up to `timeout` seconds) instead. WAL lets readers go on
    while one process writes; synchronous=NORMAL is WAL's usual durability (a power cut may lose the last commits,
    never consistency)."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_TIMEOUT", 20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def database_from_url(url: str) -> dict:
    """Turn `postgres://USER:PASS@HOST:PORT/NAME` or `sqlite:////abs/path` into a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if path.startswith("//"):
            path = path[1:]
        return sqlite_database(path or str(BASE_DIR / "var" / "db.sqlite3"))
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "modelgraph",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    raise ValueError(f"DATABASE_URL: unsupported scheme {parsed.scheme!r} (use postgres:// or sqlite:///)")


def database_setting(default_sqlite_path: Path) -> dict:
    url = env_str("DATABASE_URL")
    if not url:
        default_sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite_database(str(default_sqlite_path))
    return database_from_url(url)


def cache_setting(key_prefix: str = "mg") -> dict:
    """Redis through django-redis when REDIS_URL is set, local memory otherwise."""
    url = env_str("REDIS_URL")
    if not url:
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "modelgraph",
            "KEY_PREFIX": key_prefix,
            # Django's default of 300 entries is fewer than the version tokens one registry load bumps (a tag per
            # model, provider and family): the bump read back short, tripped the breaker and the API read the
            # database until the next bump that fitted.
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # A cache outage degrades to database reads, never to errors.
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
