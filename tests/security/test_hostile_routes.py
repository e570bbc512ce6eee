"""Every route of the project, walked from the URLconf, answers hostile input with 4xx, never a 5xx.

Path parameters are filled with hostile values (NUL, very long, unicode, `../`, huge numbers, bad time-zone
offsets); the query parameters each route reads (from the OpenAPI document for the API, a list for the pages) get
hostile values one at a time. Requests carry an admin API key and a staff session so that the admin APIs and the
Django admin are exercised past their authentication.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from drf_spectacular.generators import SchemaGenerator

from modelgraph.models import ApiKey
from registry.loading import registry_load

pytestmark = pytest.mark.django_db

SMALL_REGISTRY = Path(__file__).resolve().parent.parent / "fixtures" / "registry_small"

# Already percent-encoded where it matters: these go into the URL as they are.
HOSTILE_PATH_VALUES = [
    "%00",
    "a%00b",
    "x" * 3000,
    quote("ü🦙模型"),
    "..%2F..%2Fetc%2Fpasswd",
    "99999999999999999999999",
    quote("²"),
    quote("2025-01-01T00:00:00+25:00"),
    quote("2025-01-01T00:00:00-17:45"),
    quote("0001-01-01T00:00:00+01:00"),
    "%0A",
    "%EF%BF%BF",
]
HOSTILE_QUERY_VALUES = [
    "\x00",
    "a\x00b",
    "x" * 5000,
    "ü🦙模型",
    "../../etc/passwd",
    "-1",
    "99999999999999999999999",
    "1e999",
    "NaN",
    "²",
    "2025-01-01T00:00:00+25:00",
    "2025-01-01T00:00:00-17:45",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "\n",
]
PAGE_PARAMETERS = [
    "q",
    "format",
    "page",
    "ordering",
    "sort",
    "window",
    "provider",
    "offer",
    "family",
    "capability",
    "status",
    "search",
    "open_weights",
    "min_context",
    "max_price_input",
]
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:\\.|\[[^\]]*\]|[^()])*\)")
ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(?P<name>\w+)>")


def _regex_to_path(regex: str, value: str) -> str:
    path = GROUP.sub(value, regex)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "").replace("/?", "/").replace("\\", "")
    return path


def _route_to_path(route: str, value: str) -> str:
    return ROUTE_PARAMETER.sub(value, route)


def _to_path(pattern, value: str) -> str:
    if isinstance(pattern, RoutePattern):
        return _route_to_path(str(pattern), value)
    if isinstance(pattern, RegexPattern):
        return _regex_to_path(pattern._regex, value)
    return str(pattern)


def _has_parameters(pattern) -> bool:
    text = pattern._regex if isinstance(pattern, RegexPattern) else str(pattern)
    return bool(GROUP.search(text) or ROUTE_PARAMETER.search(text))


def walk(patterns=None, prefix: tuple = ()) -> Iterator[tuple]:
    """Every leaf URL pattern of the project as the tuple of patterns from the root to it."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, (*prefix, entry.pattern))
        elif isinstance(entry, URLPattern):
            yield (*prefix, entry.pattern)


def build(chain: tuple, value: str) -> str:
    return "/" + "".join(_to_path(pattern, value) for pattern in chain)


def all_paths(value: str) -> list[str]:
    return sorted({build(chain, value) for chain in walk() if any(_has_parameters(p) for p in chain)})


def plain_paths() -> list[str]:
    return sorted(
        {build(chain, "") for chain in walk() if not any(_has_parameters(p) for p in chain)} - {"/admin/logout/"}
    )


def api_query_parameters() -> dict[str, list[str]]:
    """Query parameters of each API path, from the project's own OpenAPI document."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    found: dict[str, list[str]] = {}
    for path, operations in document["paths"].items():
        names = {
            parameter["name"]
            for operation in operations.values()
            for parameter in operation.get("parameters", [])
            if parameter.get("in") == "query"
        }
        if names and "{" not in path:
            found["/" + path.strip("/")] = sorted(names)
    return found


@pytest.fixture
def hostile_client(client, django_user_model, tmp_path):
    """A staff session and an admin API key on a loaded small registry."""
    import shutil

    registry = tmp_path / "registry"
    shutil.copytree(SMALL_REGISTRY, registry)
    registry_load(path=registry)
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    client.raise_request_exception = False  # a server error is a status to report, not a test crash
    raw = ApiKey.generate()
    ApiKey.objects.create(name="hostile-walk", prefix=raw[:10], key_hash=ApiKey.hash(raw))
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def _server_errors(client, urls: list[str]) -> list[tuple[str, int, str]]:
    failures = []
    for url in urls:
        response = client.get(url)
        if response.status_code >= 500:
            error = getattr(response, "exc_info", None)
            failures.append((url[:160], response.status_code, repr(error[1])[:160] if error else ""))
    return failures


@pytest.mark.parametrize("value", HOSTILE_PATH_VALUES, ids=range(len(HOSTILE_PATH_VALUES)))
def test_hostile_path_parameters_never_answer_5xx(hostile_client, value):
    walked = {build(chain, "x") for chain in walk()}
    for prefix in (
        "/api/models",
        "/api/snapshots/",
        "/api/v1/admin/",
        "/api/routing/",
        "/v1/",
        "/snapshots/",
        "/models/",
        "/providers/",
        "/admin/",
    ):
        assert any(path.startswith(prefix) for path in walked), f"the walk misses {prefix}"
    failures = _server_errors(hostile_client, all_paths(value))
    assert not failures, "\n".join(map(repr, failures))


@pytest.mark.parametrize("value", HOSTILE_QUERY_VALUES, ids=range(len(HOSTILE_QUERY_VALUES)))
def test_hostile_query_parameters_never_answer_5xx(hostile_client, value):
    urls = []
    encoded = quote(value, safe="")
    for path, names in api_query_parameters().items():
        urls += [f"{path}?{name}={encoded}" for name in names]
    for path in plain_paths():
        if not path.startswith(("/api/", "/admin/", "/v1/")):
            urls += [f"{path}?{name}={encoded}" for name in PAGE_PARAMETERS]
    urls += [f"{path}?q={encoded}&o={encoded}&p={encoded}" for path in plain_paths() if path.startswith("/admin/")]
    failures = _server_errors(hostile_client, urls)
    assert not failures, "\n".join(map(repr, failures))


@pytest.mark.parametrize(
    "url",
    [
        "/models/%00",
        "/search?q=%00",
        "/providers/%00",
        "/snapshots/models/a/%00",
        "/api/snapshots/events?since=2025-01-01T00:00:00%2B25:00",
        "/api/snapshots/events?until=2025-01-01T00:00:00%2B25:00",
        "/api/snapshots/batches/2025-01-01T00:00:00%2B25:00",
        "/api/snapshots/batches/99999999999999999999999/changes",
        "/api/snapshots/diff?from=2025-01-01T00:00:00%2B25:00&to=1",
        "/api/snapshots/diff?from=1&to=99999999999999999999999",
    ],
)
def test_measured_server_errors_are_now_client_errors(hostile_client, url):
    """The 500s measured on main (issue 11), each now a 400 or a 404."""
    assert hostile_client.get(url).status_code in (400, 404)


def test_out_of_range_offset_is_a_400_naming_the_parameter(hostile_client):
    response = hostile_client.get("/api/snapshots/events?since=2025-01-01T00:00:00%2B25:00")
    assert response.status_code == 400
    assert "since" in response.json()["errors"]


def test_a_real_offset_far_from_utc_is_read_as_that_moment(hostile_client):
    """-17:45 is a well-formed RFC 3339 offset (PostgreSQL alone refused it): read as UTC, not a 500."""
    assert hostile_client.get("/api/snapshots/events?since=2025-01-01T00:00:00-17:45").status_code == 200
