"""The OpenAPI 3.1 document and Swagger UI: every path as named, error shapes documented, nothing from a CDN."""

from __future__ import annotations

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/models",
    "/api/models/{id}",
    "/api/models/{id}/providers",
    "/api/models/{id}/compare",
    "/api/providers",
    "/api/providers/{id}",
    "/api/resolve",
    "/api/health",
]


@pytest.fixture
def schema(api) -> dict:
    response = api.get("/api/schema")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def test_openapi_31_with_every_path_as_named(schema):
    assert schema["openapi"] == "3.1.0"
    assert set(PATHS) <= set(schema["paths"])
    assert all(set(schema["paths"][path]) == {"get"} for path in PATHS)


def test_yaml_too(api):
    response = api.get("/api/schema/?format=yaml")
    assert response.status_code == 200 and yaml.safe_load(response.content)["openapi"] == "3.1.0"


@pytest.mark.parametrize("path", [p for p in PATHS if p != "/api/health"])
def test_errors_and_304_are_documented(schema, path):
    responses = schema["paths"][path]["get"]["responses"]
    assert {"200", "304", "400", "404", "429"} <= set(responses)
    assert responses["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/Throttled")
    assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ParameterError")


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/api/v1/admin/ingestion-runs", {"source", "status"}),
        ("/api/routing/stats", {"window"}),
        ("/api/routing/requests", {"outcome", "pool", "requested"}),
        ("/api/telemetry/health/{provider_id}", {"window"}),
        ("/api/telemetry/latency/{provider_id}", {"window"}),
        ("/api/snapshots/events", {"kind", "entity_kind", "provider", "model", "since", "until"}),
        ("/api/snapshots/batches/{batch}/changes", {"kind", "entity_kind", "provider", "model"}),
        ("/api/snapshots/diff", {"from", "to"}),
        ("/api/resolve", {"name"}),
    ],
)
def test_validated_query_parameters_are_documented(schema, path, names):
    """FilterSets and query serializers reach the document: the values they accept, and which are required."""
    parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query"}
    assert names <= set(parameters)
    for name in names & {"status", "window", "outcome", "kind", "entity_kind"}:
        assert parameters[name]["schema"]["enum"], (path, name)
    for name in names & {"since", "until"}:
        assert parameters[name]["schema"]["format"] == "date-time"
    for name in names & {"from", "to", "name"}:
        assert parameters[name]["required"] is True


def test_model_list_documents_every_filter(schema):
    names = {p["name"] for p in schema["paths"]["/api/models"]["get"]["parameters"]}
    assert names >= {
        "provider",
        "family",
        "creator",
        "status",
        "capability",
        "input_modality",
        "output_modality",
        "open_weights",
        "min_context",
        "max_price_input",
        "max_price_output",
        "released_after",
        "released_before",
        "in_registry",
        "search",
        "ordering",
        "page",
        "page_size",
    }


def test_path_ids_are_strings(schema):
    parameter = schema["paths"]["/api/models/{id}"]["get"]["parameters"][0]
    assert parameter["name"] == "id" and parameter["schema"]["type"] == "string"


def test_swagger_ui_is_served_without_any_cdn(api, settings):
    response = api.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    external = [url for url in re.findall(r"""https?://[^\s"'<>)]+""", html) if "testserver" not in url]
    assert external == []
    assets = re.findall(r"""(?:src|href)="([^"]+)\"""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    static_url = "/" + settings.STATIC_URL.lstrip("/")
    assets = [a for a in assets if not a.startswith("/api/docs?")]  # the start-up script (see the CSP test below)
    for asset in assets:  # local static files (drf-spectacular-sidecar), found by the staticfiles finders
        assert asset.startswith(static_url), asset
        assert finders.find(asset.removeprefix(static_url)), asset
    assert "/api/schema" in api.get("/api/docs?script=").content.decode()  # the script loads the document


class TestServing:
    def test_json_is_served_for_accept_application_json(self, api):
        response = api.get("/api/schema", HTTP_ACCEPT="application/json")
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
        assert response.json()["openapi"] == "3.1.0"

    def test_built_once_per_process(self, api, monkeypatch):
        builds = []
        original = SchemaGenerator.get_schema
        monkeypatch.setattr(
            SchemaGenerator, "get_schema", lambda self, *a, **kw: builds.append(1) or original(self, *a, **kw)
        )
        first = api.get("/api/schema")
        for _ in range(3):
            assert api.get("/api/schema").content == first.content
        assert len(builds) == 1

    def test_answers_304_to_a_current_copy(self, api):
        etag = api.get("/api/schema")["ETag"]
        assert api.get("/api/schema", HTTP_IF_NONE_MATCH=etag).status_code == 304

    def test_throttled_per_client(self, api, settings):
        settings.API_THROTTLE_RATE = "2/min"
        assert [api.get("/api/schema").status_code for _ in range(2)] == [200, 200]
        response = api.get("/api/schema")
        assert response.status_code == 429 and int(response["Retry-After"]) >= 1
        assert response.json()["retry_after"] >= 1
        assert api.get("/api/schema", REMOTE_ADDR="10.9.8.7").status_code == 200  # another client is not slowed

    def test_swagger_ui_runs_no_inline_script(self, api):
        html = api.get("/api/docs").content.decode()
        assert re.findall(r"<script>", html) == []  # every script has a src (the strict CSP forbids inline ones)
        script = api.get("/api/docs?script=")
        assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def _document() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


class TestDocument:
    def test_the_same_after_a_page_render(self, catalogue, client):
        """The model list page customises its form from the API's FilterSet; that must not change the API's."""
        before = _document()
        assert client.get("/models?capability=tools").status_code == 200
        after = _document()
        assert after == before
        search = next(p for p in after["paths"]["/api/models"]["get"]["parameters"] if p["name"] == "search")
        assert search["description"].startswith("Words or part of a name")

    def test_no_generated_enum_names(self, schema):
        generated = [name for name in schema["components"]["schemas"] if re.search(r"[0-9a-f]{3}Enum$", name)]
        assert generated == []

    def test_every_operation_has_a_human_summary_and_description(self, schema):
        for path, method, operation in _operations(schema):
            assert operation.get("summary"), (method, path)
            assert operation.get("description"), (method, path)
            for internal in ("Subclasses", "serve_hit", "cache_tags", "DRF"):
                assert internal not in operation["description"], (method, path)

    def test_admin_operations_need_a_bearer_key_and_document_401_and_403(self, schema):
        assert schema["components"]["securitySchemes"]["adminKey"] == {
            "type": "http",
            "scheme": "bearer",
            "description": ANY_TEXT,
        }
        admin = [(p, m, o) for p, m, o in _operations(schema) if p.startswith(("/api/v1/admin/", "/api/routing/"))]
        assert len(admin) == 20  # ingestion 2, routing 3, gateway keys 5, curation 9, the work queue 1
        for path, method, operation in admin:
            assert {"adminKey": []} in operation["security"], (method, path)
            assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)
        for path, method, operation in _operations(schema):  # the public API: anonymous callers welcome
            if path.startswith("/api/") and not path.startswith(("/api/v1/admin/", "/api/routing/")):
                assert {} in operation.get("security", [{}]), (method, path)

    def test_gateway_operations_are_documented_with_their_key(self, schema):
        assert schema["components"]["securitySchemes"]["gatewayKey"]["scheme"] == "bearer"
        gateway = {(m, p): o for p, m, o in _operations(schema) if p.startswith("/v1/")}
        assert set(gateway) == {("post", "/v1/chat/completions"), ("get", "/v1/models"), ("get", "/v1/models/{id}")}
        for operation in gateway.values():
            assert operation["security"] == [{"gatewayKey": []}]
            assert "401" in operation["responses"]
        chat = gateway[("post", "/v1/chat/completions")]
        assert set(chat["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}

    def test_free_text_parameters_say_no_nul(self, schema):
        search = next(p for p in schema["paths"]["/api/models"]["get"]["parameters"] if p["name"] == "search")
        assert search["schema"]["pattern"] == "^[^\\x00]*$"


class _AnyText(str):
    def __eq__(self, other) -> bool:
        return isinstance(other, str) and bool(other)

    __hash__ = str.__hash__


ANY_TEXT = _AnyText()
