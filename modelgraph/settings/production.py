"""Production settings: PostgreSQL and Redis from the environment, django-q2 on the Redis broker."""

from modelgraph.env import env_bool, env_int, env_str
from modelgraph.settings.base import *  # noqa: F403

DEBUG = False
# HTTPS only (`manage.py check --deploy` is clean; tests/security/test_headers.py runs it). The proxy in front must
# set X-Forwarded-Proto (and strip a client's own). Behind a TLS-terminating proxy that does not forward the proto,
# set DJANGO_SECURE_SSL_REDIRECT=false (it would redirect forever). /api/health stays plain HTTP for load balancers.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# /metrics too: Prometheus scrapes each host directly over the private network, never through the public proxy.
SECURE_REDIRECT_EXEMPT = [r"^api/health/?$", r"^metrics/?$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000)  # a year; 0 turns HSTS off
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
CONTENT_SECURITY_POLICY = {  # the base policy, and browsers upgrade any stray http:// sub-resource
    **CONTENT_SECURITY_POLICY,  # noqa: F405
    "DIRECTIVES": {**CONTENT_SECURITY_POLICY["DIRECTIVES"], "upgrade-insecure-requests": True},  # noqa: F405
}
# The gateway is closed: /v1/ answers only requests carrying a gateway key (401 until one is issued).
ROUTING_GATEWAY_OPEN = False
METRICS_OPEN = False  # /metrics answers only keys with the `metrics:read` scope

if not env_str("DJANGO_SECRET_KEY"):
    raise RuntimeError("DJANGO_SECRET_KEY must be set in production")
if not env_str("DATABASE_URL"):
    raise RuntimeError("DATABASE_URL must be set in production")

if env_str("REDIS_URL"):
    Q_CLUSTER = {**Q_CLUSTER, "redis": env_str("REDIS_URL")}  # noqa: F405
    Q_CLUSTER.pop("orm", None)
