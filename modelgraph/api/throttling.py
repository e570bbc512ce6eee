"""Per-client request rate of the public API: one counter per client and window, counted with one atomic INCR (or,
for high limits, one INCRBY per block of requests: throttle_leases)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle

from modelgraph.api import cache as api_cache
from modelgraph.api.client_ip import client_ip
from modelgraph.api.throttle_leases import lease_size, leases


class ClientRateThrottle(AnonRateThrottle):
    """Per-client (per-IP) request rate from API_THROTTLE_RATE, counted in fixed windows with one atomic INCR.

    DRF's own throttle keeps a list of every request time in the window and rewrites it on each request; a counter
    costs the same at 10 or 10,000 requests a minute. A cache outage lets requests through.
    """

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_ident(self, request) -> str:
        return client_ip(request)  # X-Forwarded-For only from API_TRUSTED_PROXIES (see modelgraph/api/client_ip.py)

    def counter(self, request) -> api_cache.Counter | None:
        """This client's counter for the current window (and the wait until the next); None: do not count."""
        if self.rate is None or api_cache.breaker.is_open:
            return None
        now = self.timer()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        return api_cache.Counter(f"api:throttle:{self.get_ident(request)}:{window}", int(self.duration) + 1)

    def allow_request(self, request, view) -> bool:
        prior = getattr(request, "api_lookup", None)
        if prior is not None and prior.throttle is not None:  # counted already, before DRF ran
            self.wait_seconds = prior.throttle.wait_seconds
            return self.verdict(prior.found.count)
        counter = self.counter(request)
        if counter is None:
            return True
        if getattr(view, "defer_throttle", False):
            view.throttle_counter = (counter, self)  # counted with the response-cache look-up, in one round trip
            return True
        return self.verdict(self.count(counter))

    def count(self, counter: api_cache.Counter) -> int | None:
        """This request's number in its window (None: not counted), from this process's lease of the counter when
        the limit is high enough to lease (see throttle_leases)."""
        size = lease_size(self.num_requests)
        if size == 1:
            return api_cache.count_hit(counter.key, counter.timeout)
        return leases.next_number(counter.key, size, lambda by: api_cache.count_hit(counter.key, counter.timeout, by))

    def uncount(self, counter: api_cache.Counter) -> None:
        """Take back a refused request's count before Django counts it again (only an unleased count: a leased
        number is not the counter's last, and a refused client's count only grows within the window anyway)."""
        if lease_size(self.num_requests) == 1:
            api_cache.guarded_call(lambda: cache.decr(counter.key))

    def verdict(self, count: int | None) -> bool:
        return count is None or count <= self.num_requests

    def wait(self) -> float:
        return self.wait_seconds
