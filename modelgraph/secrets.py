"""Credentials: the one lookup of a provider's API key, the rule for key references, and redaction.

A provider names its key by reference, never by value (`Provider.api_key_env`, the registry's `api_key_env`):

- `${secrets:NAME}`: NAME from the secrets file or directory (`ROUTING_SECRETS_FILE`: `NAME=value` lines, a JSON
  object, or one file per secret as Docker and Kubernetes mount them), or from the environment when NAME is an
  allowed variable name (below);
- `NAME`: the environment variable NAME (then the secrets file), when NAME is allowed: it matches one of
  `SECRETS_KEY_ENV_ALLOW` (default `*_API_KEY`, `*_TOKEN`) and is not the platform's own (`DJANGO_*`,
  `DATABASE_URL`, `REDIS_URL`, every variable the settings read through modelgraph/env.py, `SECRETS_KEY_ENV_DENY`).

A reference that breaks the rule is never resolved, so a registry entry cannot point a provider's `Authorization`
header at the Django secret key or the database password. Every value handed out is remembered so `redact` can
scrub it from any text that leaves the process (error messages, upstream bodies relayed to clients, log rows).
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from modelgraph.env import is_platform_env

REFERENCE = re.compile(r"^\$\{secrets:([A-Za-z0-9_.\-]{1,150})\}$")
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,149}$")
REDACTED = "[redacted]"
DEFAULT_ALLOW = ("*_API_KEY", "*_TOKEN")
# Never a provider's key, whatever the allow-list says: the platform's own settings and secrets.
ALWAYS_DENIED = ("DJANGO_*", "DATABASE_URL", "REDIS_URL")
FORMS = "`${secrets:NAME}` or an environment variable name such as `OPENAI_API_KEY`"
_MIN_REDACT_LENGTH = 4

_known: set[str] = set()
_lock = threading.Lock()
_file_cache: dict[str, tuple[float, dict[str, str]]] = {}


class KeyHolder(Protocol):
    api_key_env: str


def secret_name(reference: str) -> str:
    """The name a reference points at: `${secrets:openai}` → `openai`, `OPENAI_API_KEY` → itself."""
    reference = (reference or "").strip()
    match = REFERENCE.match(reference)
    return match.group(1) if match else reference


def is_reference(value: str) -> bool:
    return bool(REFERENCE.match((value or "").strip()))


def _allow_patterns() -> tuple[str, ...]:
    return tuple(getattr(settings, "SECRETS_KEY_ENV_ALLOW", None) or DEFAULT_ALLOW)


@functools.lru_cache(maxsize=4096)
def _denied_by_pattern(name: str) -> bool:
    patterns = (*ALWAYS_DENIED, *(getattr(settings, "SECRETS_KEY_ENV_DENY", None) or ()))
    return any(fnmatchcase(name, pattern) for pattern in patterns)


@functools.lru_cache(maxsize=4096)
def _allowed_by_pattern(name: str) -> bool:
    return bool(ENV_NAME.match(name)) and any(fnmatchcase(name, p) for p in _allow_patterns())


def _denied(name: str) -> bool:
    """The platform's own variables (checked every time: the set only grows) and the deny patterns (cached per
    name until a SECRETS_ setting changes: a gateway request resolves its upstream key on every call)."""
    return is_platform_env(name) or _denied_by_pattern(name)


def _env_allowed(name: str) -> bool:
    return not _denied(name) and _allowed_by_pattern(name)


@functools.lru_cache(maxsize=4096)
def key_reference_error(reference: str) -> str | None:
    """Why `reference` may not name a provider's key, or None when it may (an empty reference: no key needed)."""
    reference = (reference or "").strip()
    if not reference:
        return None
    match = REFERENCE.match(reference)
    name = match.group(1) if match else reference
    if _denied(name):
        return f"api_key_env: {name!r} is one of the platform's own variables and can never be a provider's key"
    if match:
        return None
    if not ENV_NAME.match(reference):
        return f"api_key_env: {reference[:80]!r} is not a key reference; use {FORMS}"
    if not _env_allowed(reference):
        allowed = ", ".join(_allow_patterns())
        return (
            f"api_key_env: {reference!r} is not an allowed key variable (allowed: {allowed}; set "
            f"SECRETS_KEY_ENV_ALLOW to change, or use `${{secrets:{reference}}}` with a secrets file)"
        )
    return None


@receiver(setting_changed)
def _forget_rules(*, setting: str, **kwargs) -> None:
    if setting.startswith("SECRETS_") or setting == "ROUTING_SECRETS_FILE":
        key_reference_error.cache_clear()
        _denied_by_pattern.cache_clear()
        _allowed_by_pattern.cache_clear()
        _file_cache.clear()


def _read_file(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        return {str(k): str(v) for k, v in json.loads(text).items()}
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        values[name.strip()] = value.strip().strip("'\"")
    return values


def _from_file(name: str) -> str | None:
    configured = getattr(settings, "ROUTING_SECRETS_FILE", "")
    if not configured:
        return None
    path = Path(configured)
    try:
        if path.is_dir():
            candidate = path / name
            return candidate.read_text(encoding="utf-8").strip() if candidate.is_file() else None
        mtime = path.stat().st_mtime
    except (OSError, ValueError):
        return None
    cached = _file_cache.get(str(path))
    if cached is None or cached[0] != mtime:
        try:
            cached = (mtime, _read_file(path))
        except (OSError, ValueError):
            return None
        _file_cache[str(path)] = cached
    return cached[1].get(name)


def _remember(value: str | None) -> str | None:
    if not value:
        return None
    if value not in _known:
        with _lock:
            _known.add(value)
    return value


def secret_resolve(reference: str) -> str | None:
    """The secret an operator's reference names (environment, then the secrets file), or None.

    For references the operator sets in settings (gateway keys); a provider's key goes through `key_resolve`.
    """
    name = secret_name(reference)
    if not name:
        return None
    return _remember(os.environ.get(name) or _from_file(name))


def key_resolve(reference: str) -> str | None:
    """The provider key a reference names, or None when it is absent or the reference breaks the rule."""
    if not reference or key_reference_error(reference) is not None:
        return None
    name = secret_name(reference)
    from_env = os.environ.get(name) if _env_allowed(name) else None
    return _remember(from_env or _from_file(name))


def provider_api_key(provider: KeyHolder) -> str | None:
    """A provider's API key, read when needed from what its reference names; never stored, never logged."""
    return key_resolve(provider.api_key_env)


def provider_key_problem(provider: KeyHolder) -> str | None:
    """Why a provider has no usable key (no reference, a refused reference, nothing under it), or None."""
    reference = (provider.api_key_env or "").strip()
    if not reference:
        return "no key reference"
    error = key_reference_error(reference)
    if error is not None:
        return f"refused: {error}"
    if key_resolve(reference) is None:
        return f"{secret_name(reference)} is not set in this process"
    return None


def redact(text: str, *extra: str | None) -> str:
    """`text` with every secret this process has handed out (and `extra`) replaced by [redacted]."""
    if not text:
        return text
    for secret in (*_known, *extra):
        if secret and len(secret) >= _MIN_REDACT_LENGTH and secret in text:
            text = text.replace(secret, REDACTED)
    return text
