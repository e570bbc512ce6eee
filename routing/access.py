"""Who may use /v1/: a gateway key (issued in the admin or by `manage.py gateway_key`, or listed in
ROUTING_GATEWAY_KEYS), or, while no key exists at all, a loopback client when ROUTING_GATEWAY_OPEN is "loopback".

The accepted keys are kept in-process as SHA-256 digests for ROUTING_GATEWAY_KEYS_TTL seconds (a revoked key stops
working within that time in every process, at once in the process that revoked it), so a request costs one hash
and one set look-up, never a query.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time

from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from modelgraph.api_keys import hashed_key_issue, hashed_keys_revoke
from modelgraph.secrets import is_reference, secret_resolve
from routing import errors
from routing.conf import setting
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
_digests: tuple[float, frozenset[str]] | None = None


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


def accepted_key_digests() -> frozenset[str]:
    """Every key the gateway accepts now (a database read; the hot path uses the cached `current_digests`)."""
    issued = GatewayKey.objects.filter(revoked_at__isnull=True).values_list("key_hash", flat=True)
    return frozenset({*issued, *configured_key_digests()})


async def current_digests() -> frozenset[str]:
    global _digests
    cached = _digests
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    digests = await db(accepted_key_digests)
    with _lock:
        _digests = (time.monotonic() + setting("ROUTING_GATEWAY_KEYS_TTL"), digests)
    return digests


def forget_digests() -> None:
    global _digests
    with _lock:
        _digests = None


@receiver(post_save, sender=GatewayKey)
@receiver(post_delete, sender=GatewayKey)
def _key_changed(**kwargs) -> None:
    transaction.on_commit(forget_digests)
    forget_digests()


@receiver(setting_changed)
def _setting_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("ROUTING_GATEWAY"):
        forget_digests()


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


async def authorize(headers: dict[str, str], client: str | None) -> None:
    """Raise a 401 GatewayError unless the request may use the gateway. `headers` have lower-case names."""
    digests = await current_digests()
    token = bearer_token(headers.get("authorization", ""))
    if digests:
        if token and _digest(token) in digests:
            return
        raise errors.GatewayError(
            401,
            "A valid gateway key is required: Authorization: Bearer <key>.",
            type=errors.AUTHENTICATION,
            code="invalid_api_key",
        )
    if setting("ROUTING_GATEWAY_OPEN") == LOOPBACK and is_loopback(client, headers):
        return
    where = "only to clients on this machine" if setting("ROUTING_GATEWAY_OPEN") == LOOPBACK else "to nobody"
    raise errors.GatewayError(
        401,
        f"No gateway key is configured, so this gateway is open {where}: {HOW_TO_CONFIGURE}.",
        type=errors.AUTHENTICATION,
        code="gateway_key_not_configured",
    )


# Issuing and revoking (admin and management command).
def gateway_key_issue(*, key: GatewayKey, user=None) -> str:
    """Issue a gateway key (shown once); the accepted digests are read again on the next request."""
    raw = hashed_key_issue(key=key, user=user)
    transaction.on_commit(forget_digests)
    return raw


@transaction.atomic
def gateway_keys_revoke(*, keys) -> int:
    """Revoke the keys not revoked yet (kept for the audit trail); returns how many."""
    count = hashed_keys_revoke(keys=keys)
    forget_digests()
    transaction.on_commit(forget_digests)
    return count
