"""Settings for the embedded default: SQLite, local-memory cache, django-q2 ORM broker. Environment overrides all."""

from __future__ import annotations

from modelgraph.env import (
    BASE_DIR,
    cache_setting,
    database_setting,
    env_bool,
    env_int,
    env_list,
    env_prefixed,
    env_str,
)

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-embedded-default-change-me")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_q",
    "axes",
    "csp",
    "corsheaders",
    "modelgraph",
    "catalog",
    "registry",
    "ingestion",
    "telemetry",
    "snapshots",
    "routing",
    "web",
]

MIDDLEWARE = [
    "modelgraph.request_id.RequestIdMiddleware",  # first: the request id for every log line; /api/ counts (/metrics)
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",  # CORS_URLS_REGEX: the public read-only API only (before any answer)
    "modelgraph.middleware.ApiErrorMiddleware",  # JSON errors under /api/ and /v1/; stale-if-error; 503s
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "modelgraph.page_throttle.PageThrottleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "modelgraph.middleware.HostileInputMiddleware",  # NUL characters, bad admin ids, unserved methods: 4xx
    "axes.middleware.AxesMiddleware",  # last: it turns a lockout into its 429 page
]

ROOT_URLCONF = "modelgraph.urls"
WSGI_APPLICATION = "modelgraph.wsgi.application"
ASGI_APPLICATION = "modelgraph.asgi.application"

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

DATABASES = {"default": database_setting(BASE_DIR / "var" / "db.sqlite3")}
CACHES = {"default": cache_setting()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
FORMS_URLFIELD_ASSUME_HTTPS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The registry: YAML source of truth in the repository.
REGISTRY_DIR = BASE_DIR / "registry" / "data"
REGISTRY_MAX_FILE_BYTES = env_int("REGISTRY_MAX_FILE_BYTES", 1_000_000)
# Registries with at least this many files are parsed on every core (below it, process start-up costs more).
REGISTRY_PARALLEL_THRESHOLD = env_int("REGISTRY_PARALLEL_THRESHOLD", 2000)
TELEMETRY_PROBE_CONCURRENCY = env_int("TELEMETRY_PROBE_CONCURRENCY", 25)  # other knobs: telemetry/conf.py
SNAPSHOTS_BASE_URL = env_str("SNAPSHOTS_BASE_URL", "https://openrouter.ai")  # other knobs: snapshots/conf.py
# Provider keys (modelgraph/secrets.py): `${secrets:NAME}` from this file or directory (or an allowed variable), or
# an environment variable whose name matches SECRETS_KEY_ENV_ALLOW and is none of the platform's own variables
# (DJANGO_*, DATABASE_URL, REDIS_URL, everything read here, SECRETS_KEY_ENV_DENY).
ROUTING_SECRETS_FILE = env_str("ROUTING_SECRETS_FILE", "")
SECRETS_KEY_ENV_ALLOW = env_list("SECRETS_KEY_ENV_ALLOW", ["*_API_KEY", "*_TOKEN"])
SECRETS_KEY_ENV_DENY = env_list("SECRETS_KEY_ENV_DENY", [])
# Gateway (/v1/): bearer keys it accepts besides those issued in the admin (comma-separated literal keys or
# `${secrets:NAME}`). With no key at all it answers only loopback clients ("loopback"; production: nobody).
# Other knobs: routing/conf.py.
ROUTING_GATEWAY_KEYS = env_list("ROUTING_GATEWAY_KEYS", [])
ROUTING_GATEWAY_OPEN = "loopback" if env_str("ROUTING_GATEWAY_OPEN", "loopback").lower() == "loopback" else False
# A routing configuration file (capabilities, pools, key references) that `manage.py routing_load` loads at start-up
# (bin/start); unset: the admin's rows only. Batches run through the router with at most this many requests at once.
ROUTING_CONFIG = env_str("ROUTING_CONFIG", "")
ROUTING_BATCH_CONCURRENCY = env_int("ROUTING_BATCH_CONCURRENCY", 8)
# /metrics (Prometheus): an admin API key with the `metrics:read` scope; "loopback" also answers direct loopback
# clients without one (development; production: only keys). PROMETHEUS_MULTIPROC_DIR: see modelgraph/metrics.py.
METRICS_OPEN = "loopback" if env_str("METRICS_OPEN", "loopback").lower() == "loopback" else False
# Minutes between scheduled probes of cooled-down gateway offers and providers (routing/schedules.py).
ROUTING_PROBE_SCHEDULE_MINUTES = env_int("ROUTING_PROBE_SCHEDULE_MINUTES", 1)
if ROUTING_PROBE_SCHEDULE_MINUTES < 1:
    raise ValueError("ROUTING_PROBE_SCHEDULE_MINUTES must be a whole number of minutes, at least 1")

# Ingestion: a run still "running" after this many seconds is taken as crashed; base URLs overridable per source.
INGESTION_RUN_TIMEOUT = env_int("INGESTION_RUN_TIMEOUT", 3600)
INGESTION_HTTP_TIMEOUT = float(env_str("INGESTION_HTTP_TIMEOUT", "20"))  # per attempt, the whole body included
# A response body larger than this (decoded) is refused as it arrives: 64 MiB is 40x the largest real listing
# (LiteLLM's price file, 1.5 MB); a never-ending body or a gzip bomb must not take the worker's memory.
INGESTION_MAX_RESPONSE_BYTES = env_int("INGESTION_MAX_RESPONSE_BYTES", 64 * 1024 * 1024)
INGESTION_RETRY_ATTEMPTS = env_int("INGESTION_RETRY_ATTEMPTS", 4)
INGESTION_RETRY_BACKOFF = float(env_str("INGESTION_RETRY_BACKOFF", "0.5"))
INGESTION_RETRY_AFTER_MAX = float(env_str("INGESTION_RETRY_AFTER_MAX", "30"))
# INGESTION_BASE_URL_<SOURCE> (e.g. INGESTION_BASE_URL_OPENAI) points one source at another host.
INGESTION_BASE_URLS = env_prefixed("INGESTION_BASE_URL_")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "modelgraph.api.openapi.APIAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # One error shape, `{"detail": ...}`, for every API view (public, admin and routing APIs alike).
    "EXCEPTION_HANDLER": "modelgraph.api.errors.api_exception_handler",
    # JSON bodies nested deeper than API_MAX_JSON_DEPTH are a 400 before they are parsed (not a RecursionError).
    "DEFAULT_PARSER_CLASSES": [
        "modelgraph.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # No NUM_PROXIES here: DRF would read X-Forwarded-For from anyone. Client addresses: modelgraph/api/client_ip.py.
}
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 64)
# Client addresses (throttles, failed keys, login lockouts) are REMOTE_ADDR, or X-Forwarded-For only when REMOTE_ADDR
# is one of these proxies (IPs or CIDRs, comma-separated). API_NUM_PROXIES alone trusts nothing any more (it used to
# let anyone forge X-Forwarded-For and escape the throttle); `check --deploy` warns when it is set without these.
API_TRUSTED_PROXIES = env_list("API_TRUSTED_PROXIES", [])
API_NUM_PROXIES = env_int("API_NUM_PROXIES", 0)
# Bad admin API keys per client address; past it every bearer attempt from there is 429 until the window ends.
API_ADMIN_KEY_FAILURE_RATE = env_str("API_ADMIN_KEY_FAILURE_RATE", "10/min")
# Browser pages (everything outside /api/, /v1/, /static/ and /admin/) per client address; over it: 429.
PAGE_THROTTLE_RATE = env_str("PAGE_THROTTLE_RATE", "300/min")

# Admin logins (django-axes): 5 failures for one username from one address lock that pair out for 15 minutes (429);
# a success resets the count. Attempts are kept in the database (Axes › Access attempts; `manage.py axes_reset`).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "modelgraph.api.client_ip.client_ip"
AXES_VERBOSE = False

# Content Security Policy (django-csp), everywhere so that development sees what production enforces: scripts and
# everything else from this origin only, no inline script (the Swagger UI loads its start-up script as a file);
# inline styles are allowed (charts colour their legends with style attributes; CSS cannot run code).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Public API (modelgraph/api/viewsets.py): throttling per client, pagination, response caching.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/min")
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200)
API_CACHE_ENABLED = env_bool("API_CACHE_ENABLED", True)
API_CACHE_CATALOGUE_SECONDS = env_int("API_CACHE_CATALOGUE_SECONDS", 300)
API_CACHE_TELEMETRY_SECONDS = env_int("API_CACHE_TELEMETRY_SECONDS", 60)
# A cached answer is kept this much longer as its last good copy, served (marked stale) only while the database is down.
API_CACHE_STALE_SECONDS = env_int("API_CACHE_STALE_SECONDS", 6 * 3600)

# CORS (django-cors-headers): any origin may GET the public read-only API, never with credentials; the admin API
# (/api/v1/admin/, /api/routing/), the gateway (/v1/), the admin and the pages send no CORS headers at all.
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_URLS_REGEX = (
    r"^/api/(?:catalog\.json$|(?:models|providers|offers|price-changes|resolve|export|telemetry|snapshots|schema|health)"
    r"(?:/|$))"
)
CORS_ALLOW_HEADERS = ("accept", "accept-language", "cache-control", "if-modified-since", "if-none-match", "user-agent")
CORS_EXPOSE_HEADERS = ("ETag", "Last-Modified", "Retry-After", "X-Cache", "Content-Disposition")
CORS_PREFLIGHT_MAX_AGE = 86400

SPECTACULAR_SETTINGS = {
    "TITLE": "ModelGraph API",
    "DESCRIPTION": (
        "The open catalogue of LLM models and the providers that serve them. The public API is read-only and "
        "anonymous; every response carries an ETag (conditional GETs answer 304); requests are throttled per client "
        "(429 with Retry-After); any origin may read it from a browser (CORS, never with credentials). The whole "
        "catalogue is one download: `/api/catalog.json`, `/api/export/models.csv`, `/api/export/offers.csv`. "
        "The admin operations (`/api/v1/admin/`, `/api/routing/`) need an admin API key "
        "(`Authorization: Bearer <key>`); the OpenAI-compatible gateway (`/v1/`) needs a gateway key."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {  # chosen names: no `Status65aEnum` (tests/api/test_schema.py)
        "BatchStatusEnum": "snapshots.models.Batch.Status",
        "EntityKindEnum": "snapshots.models.EntityKind",
        "EntityStateEnum": "snapshots.models.EntityState",
        "EventKindEnum": "snapshots.models.EventKind",
        "IngestionRunStatusEnum": "ingestion.models.RunStatus",
        "IngestionTierEnum": "ingestion.models.Tier",
        "RouteStateEnum": "routing.models.RouteStateValue",
        "RequestOutcomeEnum": "routing.models.Outcome",
        "LifecycleEnum": "catalog.models.Lifecycle",
        "ModalityEnum": "catalog.models.Modality",
        "CapabilityEnum": "catalog.models.ModelCapability",
        "DeliveryModeEnum": "catalog.models.DeliveryMode",
        "ProviderKindEnum": "catalog.models.ProviderKind",
        "HealthStatusEnum": ["ok", "degraded", "down"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "modelgraph.api.openapi.strip_trailing_slashes",
        "modelgraph.api.openapi.forbid_nul_in_strings",
        "modelgraph.api.openapi.add_gateway",
    ],
}

# django-q2: ORM broker by default; Redis broker when REDIS_URL is set (production settings).
Q_CLUSTER = {
    "name": "modelgraph",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 1800),
    "retry": env_int("Q_RETRY", 2400),
    "orm": "default",
    "catch_up": False,
    "max_attempts": 1,
}

# LOG_FORMAT=json: one JSON object a line (time, level, logger, message, request_id; modelgraph/logging_json.py).
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ValueError(f"LOG_FORMAT must be 'plain' or 'json', not {LOG_FORMAT[:20]!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "modelgraph.logging_json.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
