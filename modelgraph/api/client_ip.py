"""Who the client is, for throttles and login lockouts: X-Forwarded-For is believed only from trusted proxies.

The trap this closes: DRF's `NUM_PROXIES` (our old `API_NUM_PROXIES`) reads X-Forwarded-For on *every* request, so
with `API_NUM_PROXIES=1` and no proxy in front (or a proxy that can be bypassed) any client sends
`X-Forwarded-For: <anything>` and gets a fresh throttle bucket on each request. Here the header counts only when the
peer itself (REMOTE_ADDR) is one of `API_TRUSTED_PROXIES` (IPs or CIDRs); the client is then the right-most address
in the header that is not a trusted proxy (entries to its left were written by the client and prove nothing).
`API_NUM_PROXIES` alone no longer trusts anything: set `API_TRUSTED_PROXIES` to the proxies' addresses.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.core import checks
from django.core.signals import setting_changed
from django.dispatch import receiver

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def trusted_proxies() -> tuple[Network, ...]:
    """API_TRUSTED_PROXIES parsed once (ValueError naming the setting and the entry when one is not an IP/CIDR)."""
    networks = []
    for entry in getattr(settings, "API_TRUSTED_PROXIES", []):
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"API_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR network") from None
    return tuple(networks)


@receiver(setting_changed)
def _forget_proxies(*, setting: str, **kwargs) -> None:
    if setting == "API_TRUSTED_PROXIES":
        trusted_proxies.cache_clear()


def _address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    raw = raw.strip()
    if raw.startswith("[") and "]" in raw:  # [v6]:port
        raw = raw[1 : raw.index("]")]
    elif raw.count(":") == 1:  # v4:port
        raw = raw.split(":", 1)[0]
    try:
        return ipaddress.ip_address(raw)
    except ValueError:
        return None


def is_trusted_proxy(raw: str) -> bool:
    address = _address(raw)
    return address is not None and any(address in network for network in trusted_proxies())


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or, when REMOTE_ADDR is a trusted proxy, the right-most untrusted hop of
    X-Forwarded-For (the proxy's own view of who connected to it)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if not is_trusted_proxy(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            address = _address(hop)
            return str(address) if address is not None else remote
    return str(_address(hops[0])) if hops and _address(hops[0]) else remote


@checks.register(checks.Tags.security, deploy=True)
def check_forwarded_headers(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """API_NUM_PROXIES without API_TRUSTED_PROXIES used to trust a forgeable header; now it trusts nothing."""
    try:
        trusted_proxies()
    except ValueError as exc:
        return [checks.Error(str(exc), id="modelgraph.E001")]
    if getattr(settings, "API_NUM_PROXIES", 0) and not getattr(settings, "API_TRUSTED_PROXIES", []):
        return [
            checks.Warning(
                "API_NUM_PROXIES is set but API_TRUSTED_PROXIES is empty: X-Forwarded-For is ignored and every "
                "client behind the proxy shares the proxy's throttle bucket.",
                hint="Set API_TRUSTED_PROXIES to your proxies' addresses (IPs or CIDRs, comma-separated).",
                id="modelgraph.W001",
            )
        ]
    return []
