"""A per-client throttle for the browser pages (PAGE_THROTTLE_RATE, default a generous `300/min`).

The API (/api/) and the gateway (/v1/) have their own throttles and keys, static files are cheap, and admin logins
are guarded by django-axes; everything else (search, model and provider pages, dashboards, snapshot history) is
counted here per client address (modelgraph/api/client_ip.py) in fixed windows with one cache INCR. Over the rate:
429 with Retry-After. A cache outage lets pages through.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.http import HttpResponse
from rest_framework.throttling import SimpleRateThrottle

from modelgraph.api import cache as api_cache
from modelgraph.api.client_ip import client_ip

EXEMPT_PREFIXES = ("/api/", "/v1/", "/admin/")


class PageThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = self.refusal(request)
        return refused if refused is not None else self.get_response(request)

    def refusal(self, request) -> HttpResponse | None:
        rate = settings.PAGE_THROTTLE_RATE
        static = "/" + settings.STATIC_URL.lstrip("/")
        if not rate or request.path.startswith((*EXEMPT_PREFIXES, static)) or api_cache.breaker.is_open:
            return None
        limit, duration = SimpleRateThrottle.parse_rate(None, rate)
        now = time.time()
        window = int(now // duration)
        count = api_cache.count_hit(f"page:throttle:{client_ip(request)}:{window}", int(duration) + 1)
        if count is None or count <= limit:
            return None
        wait = max(1, math.ceil((window + 1) * duration - now))
        response = HttpResponse(
            f"Too many requests: the limit is {rate} pages per client. Retry after {wait} seconds.\n",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(wait)
        return response
