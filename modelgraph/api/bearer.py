"""Bearer API keys for admin endpoints: 401 without a valid key, 403 with a revoked one, 429 after too many bad keys.

Failed keys are counted per client address (modelgraph/api/client_ip.py) in fixed windows in the cache; past
API_ADMIN_KEY_FAILURE_RATE (default `10/min`) every bearer attempt from that address, right or wrong, answers 429
with Retry-After until the window ends, so a key cannot be guessed faster than that. A cache outage lets requests
through (the keys themselves are 256-bit random: the throttle slows guessing, it is not what makes it hopeless).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.throttling import SimpleRateThrottle

from modelgraph.api import cache as api_cache
from modelgraph.api.client_ip import client_ip
from modelgraph.api.errors import Throttled
from modelgraph.models import ApiKey


class FailedKeyCounter:
    """Bad admin keys per client address and window: `over_limit()` before checking a key, `add()` after a miss."""

    def __init__(self, request) -> None:
        self.rate = settings.API_ADMIN_KEY_FAILURE_RATE
        self.limit, duration = SimpleRateThrottle.parse_rate(None, self.rate)
        now = time.time()
        window = int(now // duration)
        self.wait = (window + 1) * duration - now
        self.key = f"api:badkey:{client_ip(request)}:{window}"
        self.timeout = int(duration) + 1

    def over_limit(self) -> bool:
        count = api_cache.guarded_call(lambda: api_cache.cache.get(self.key), None)
        return count is not None and int(count) >= self.limit

    def add(self) -> None:
        api_cache.count_hit(self.key, self.timeout)

    def refuse(self) -> Throttled:
        return Throttled(self.wait, f"{self.rate} failed API keys")


class BearerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        failures = FailedKeyCounter(request)
        if failures.over_limit():
            raise failures.refuse()
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            failures.add()
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <key>'")
        key = ApiKey.objects.filter(key_hash=ApiKey.hash(raw.strip())).first()
        if key is None:
            failures.add()
            raise exceptions.AuthenticationFailed("unknown API key")
        if key.revoked_at is None:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        return (None, key)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="modelgraph-admin"'


class HasActiveApiKey(permissions.BasePermission):
    message = "this API key has been revoked"

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            raise exceptions.NotAuthenticated("an admin API key is required: Authorization: Bearer <key>")
        return key.revoked_at is None


class MethodCheckedFirst:
    """A mixin for authenticated views: an unsupported method is 405 before authentication (not 401), as HTTP says
    and as the OpenAPI document promises."""

    def initial(self, request, *args, **kwargs):
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)
