"""Who may use /v1/: a gateway key (issued in the admin or by `manage.py gateway_key`, or listed in
ROUTING_GATEWAY_KEYS), or, while no key exists at all, a loopback client when ROUTING_GATEWAY_OPEN is "loopback".

The accepted keys are kept in-process as SHA-256 digests with each issued key's grant (scopes, limits, usage so far:
routing.key_limits) for ROUTING_GATEWAY_KEYS_TTL seconds (a key revoked or changed elsewhere takes effect within that
time in every process, at once in the process that changed it), so a request costs one hash and one dict look-up,
never a query.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time

from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from modelgraph.api_keys import hashed_key_issue, hashed_keys_revoke
from modelgraph.secrets import is_reference, secret_resolve
from routing import errors
from routing.conf import setting
from routing.key_counters import utc_day
from routing.key_limits import KeyGrant, current_grant, usd_to_nano
from routing.key_usage import gateway_keys_with_usage
from routing.models import GatewayKey
from routing.orm import db

LOOPBACK = "loopback"
# A request that names a forwarded client came through a proxy: its loopback address says nothing about the client.
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
HOW_TO_CONFIGURE = (
    "issue a key with `manage.py gateway_key issue NAME` or in the admin (Routing › Gateway keys), or set "
    "ROUTING_GATEWAY_KEYS, then send `Authorization: Bearer <key>`"
)

_lock = threading.Lock()
_keys: tuple[float, dict[str, KeyGrant | None]] | None = None


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def configured_key_digests() -> set[str]:
    """ROUTING_GATEWAY_KEYS: literal keys, or `${secrets:NAME}` references resolved now."""
    digests = set()
    for entry in setting("ROUTING_GATEWAY_KEYS") or ():
        entry = str(entry).strip()
        value = secret_resolve(entry) if is_reference(entry) else entry
        if value:
            digests.add(_digest(value))
    return digests


def key_grant(key: GatewayKey, today: str) -> KeyGrant:
    """An issued key (from `gateway_keys_with_usage`) as the plain value requests read."""
    capabilities, models = list(key.allowed_capabilities.all()), list(key.allowed_models.all())
    return KeyGrant(
        id=key.pk,
        digest=key.key_hash,
        name=key.name,
        capability_ids=frozenset(c.pk for c in capabilities),
        model_ids=frozenset(m.pk for m in models),
        allowed_names=tuple(sorted(c.slug for c in capabilities)) + tuple(sorted(m.slug for m in models)),
        requests_per_minute=key.requests_per_minute,
        tokens_per_day=key.tokens_per_day,
        budget_nano_usd=usd_to_nano(key.budget_usd),
        spent_nano_usd=usd_to_nano(getattr(key, "spend_total", None)) or 0,
        tokens_on_day=(today, getattr(key, "tokens_today", 0)),
    )


def accepted_keys() -> dict[str, KeyGrant | None]:
    """Every key the gateway accepts now by digest, an issued key with its grant (a database read, three queries;
    the hot path uses the cached `current_keys`)."""
    keys: dict[str, KeyGrant | None] = dict.fromkeys(configured_key_digests())
    today = utc_day(time.time())[0]
    for key in gateway_keys_with_usage().filter(revoked_at__isnull=True):
        keys[key.key_hash] = key_grant(key, today)
    return keys


async def current_keys() -> dict[str, KeyGrant | None]:
    global _keys
    cached = _keys
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    keys = await db(accepted_keys)
    with _lock:
        _keys = (time.monotonic() + setting("ROUTING_GATEWAY_KEYS_TTL"), keys)
    return keys


def forget_keys() -> None:
    global _keys
    with _lock:
        _keys = None


@receiver(post_save, sender=GatewayKey)
@receiver(post_delete, sender=GatewayKey)
@receiver(m2m_changed, sender=GatewayKey.allowed_capabilities.through)
@receiver(m2m_changed, sender=GatewayKey.allowed_models.through)
def _key_changed(**kwargs) -> None:
    transaction.on_commit(forget_keys)
    forget_keys()


@receiver(setting_changed)
def _setting_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("ROUTING_GATEWAY"):
        forget_keys()


def is_loopback(client: str | None, headers: dict[str, str]) -> bool:
    """A direct connection from this machine (not a proxy relaying someone else's request)."""
    if not client or any(headers.get(name) for name in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(client.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def bearer_token(authorization: str) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def authorize(headers: dict[str, str], client: str | None) -> KeyGrant | None:
    """Raise a 401 GatewayError unless the request may use the gateway; else the grant of the issued key it used
    (None: a configured key, or the open loopback gateway), also left in `key_limits.current_grant` for the gateway.
    `headers` have lower-case names."""
    current_grant.set(None)
    keys = await current_keys()
    token = bearer_token(headers.get("authorization", ""))
    if keys:
        digest = _digest(token) if token else ""
        if digest in keys:
            grant = keys[digest]
            current_grant.set(grant)
            return grant
        raise errors.GatewayError(
            401,
            "A valid gateway key is required: Authorization: Bearer <key>.",
            type=errors.AUTHENTICATION,
            code="invalid_api_key",
        )
    if setting("ROUTING_GATEWAY_OPEN") == LOOPBACK and is_loopback(client, headers):
        return None
    where = "only to clients on this machine" if setting("ROUTING_GATEWAY_OPEN") == LOOPBACK else "to nobody"
    raise errors.GatewayError(
        401,
        f"No gateway key is configured, so this gateway is open {where}: {HOW_TO_CONFIGURE}.",
        type=errors.AUTHENTICATION,
        code="gateway_key_not_configured",
    )


# Issuing, changing and revoking (admin, API and management command).
@transaction.atomic
def gateway_key_issue(*, key: GatewayKey, user=None, capabilities=None, models=None) -> str:
    """Issue a gateway key (shown once) with its limits set on `key` and the capabilities and models it may use
    (None: all); every process reads the accepted keys again within ROUTING_GATEWAY_KEYS_TTL, this one at once."""
    raw = hashed_key_issue(key=key, user=user)
    if capabilities:
        key.allowed_capabilities.set(capabilities)
    if models:
        key.allowed_models.set(models)
    transaction.on_commit(forget_keys)
    return raw


@transaction.atomic
def gateway_key_change(*, key: GatewayKey, changes: dict, capabilities=None, models=None) -> GatewayKey:
    """Change a key's name or limits (`changes`: field → value, already checked) and, when given, the
    capabilities and models it may use (empty: all)."""
    for name, value in changes.items():
        setattr(key, name, value)
    key.full_clean(exclude=["key_hash", "prefix", "created_by"])
    key.save()
    if capabilities is not None:
        key.allowed_capabilities.set(capabilities)
    if models is not None:
        key.allowed_models.set(models)
    transaction.on_commit(forget_keys)
    return key


@transaction.atomic
def gateway_keys_revoke(*, keys) -> int:
    """Revoke the keys not revoked yet (kept for the audit trail); returns how many."""
    count = hashed_keys_revoke(keys=keys)
    forget_keys()
    transaction.on_commit(forget_keys)
    return count
