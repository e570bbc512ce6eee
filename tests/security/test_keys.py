"""Key exfiltration: a provider entry that names one of the platform's own variables as its key, next to a host
that records everything it is sent (a capture server on loopback), never receives that variable's value — from
`manage.py probe`, from ingestion, or from the gateway. The registry, the admin and every reader of provider keys
apply the same rule, and a provider with a key never moves to another host by a registry load."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.test import AsyncClient
from django.urls import reverse

from catalog.models import Model, Provider
from ingestion.models import RunStatus
from ingestion.services import ingestion_run_source
from modelgraph.secrets import provider_api_key
from registry.loading import RegistryInvalid, registry_load
from registry.validation import validate_registry
from routing.router import router_reset
from routing.selectors import routable_candidates
from telemetry.selectors import provider_probe_skip
from tests import recipes
from tests.fakes.fixtures import fake_provider, fake_provider_server  # noqa: F401  (fixtures)

SECRETS = {
    "DJANGO_SECRET_KEY": "django-secret-sentinel-5f2b9c41e7",
    "DATABASE_URL": "postgres://admin:db-password-sentinel-77@db.internal:5432/prod",
    "REDIS_URL": "redis://:redis-password-sentinel-31@cache.internal:6379/0",
    "API_THROTTLE_RATE": "throttle-sentinel-9911",
}
REFERENCES = [
    "DJANGO_SECRET_KEY",
    "${secrets:DJANGO_SECRET_KEY}",
    "DATABASE_URL",
    "REDIS_URL",
    "${secrets:REDIS_URL}",
    "API_THROTTLE_RATE",
]


@pytest.fixture
def platform_secrets(monkeypatch) -> dict[str, str]:
    """The platform's own variables, holding recognisable values (the process keeps the ones it started with)."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return SECRETS


@pytest.fixture
def capture(fake_provider):  # noqa: F811
    """A provider API on loopback that records every request it gets, headers included."""
    return fake_provider


@pytest.fixture
def gateway(settings):
    """A fresh gateway router writing its request log inline (no writer thread outliving the test)."""
    settings.ROUTING_LOG_MODE = "inline"
    router = router_reset()
    yield router
    router.log.writer.stop()
    router_reset()


def leaked(server) -> list[str]:
    """Every platform secret found anywhere in what the capture server was sent."""
    seen = json.dumps(server.requests)
    return [name for name, value in SECRETS.items() if value in seen]


def hostile_provider(slug: str, reference: str, url: str) -> Provider:
    provider = recipes.openai_compatible_provider.make(slug=slug, name=slug, api_base_url=url, api_key_env=reference)
    model, _ = Model.objects.get_or_create(slug="victim-model", defaults={"name": "Victim"})
    recipes.offer.make(
        provider=provider,
        model=model,
        provider_model_id="fake-model",
        price_input=Decimal("1"),
        price_output=Decimal("1"),
    )
    return provider


@pytest.mark.django_db
class TestNoPlatformSecretLeaves:
    def test_manage_py_probe_sends_no_platform_secret(self, platform_secrets, capture):
        for index, reference in enumerate(REFERENCES):
            hostile_provider(f"hostile-{index}", reference, capture.url)
        call_command("probe", verbosity=0)
        assert leaked(capture) == []
        assert not any("authorization" in request["headers"] for request in capture.requests)
        assert all(provider_probe_skip(p).value == "no_key" for p in Provider.objects.all())

    def test_ingestion_sends_no_platform_secret(self, platform_secrets, capture):
        Provider.objects.create(slug="openai", name="OpenAI", api_key_env="DJANGO_SECRET_KEY")
        run = ingestion_run_source(source="openai", base_url=capture.url.removesuffix("/v1"))
        assert leaked(capture) == [] and capture.requests == []
        assert run.status == RunStatus.SKIPPED and "platform's own variables" in run.error_message

    def test_the_gateway_sends_no_platform_secret(self, platform_secrets, capture, gateway):
        for index, reference in enumerate(REFERENCES):
            hostile_provider(f"hostile-{index}", reference, capture.url)
        assert routable_candidates() == []
        for index in range(len(REFERENCES)):
            body = json.dumps(
                {"model": f"victim-model@hostile-{index}", "messages": [{"role": "user", "content": "hi"}]}
            )
            response = async_to_sync(AsyncClient().post)(
                "/v1/chat/completions", data=body, content_type="application/json"
            )
            assert response.status_code == 503
        assert leaked(capture) == [] and capture.requests == []


@pytest.mark.django_db
class TestOneLookupEverywhere:
    def test_telemetry_and_the_gateway_agree_a_secrets_reference_has_a_key(self, settings, tmp_path, capture, gateway):
        (tmp_path / "acme").write_text("sk-acme-from-secrets-dir-4242\n")
        settings.ROUTING_SECRETS_FILE = str(tmp_path)
        provider = hostile_provider("acme", "${secrets:acme}", capture.url)
        assert provider_api_key(provider) == "sk-acme-from-secrets-dir-4242"
        assert provider_probe_skip(provider) is None  # telemetry: configured
        assert [c.provider_slug for c in routable_candidates()] == ["acme"]  # the gateway: routable
        call_command("probe", "--health", verbosity=0)
        body = json.dumps({"model": "victim-model@acme", "messages": [{"role": "user", "content": "hi"}]})
        response = async_to_sync(AsyncClient().post)("/v1/chat/completions", data=body, content_type="application/json")
        assert response.status_code == 200
        sent = [request["headers"].get("authorization") for request in capture.requests]
        assert set(sent) == {"Bearer sk-acme-from-secrets-dir-4242"}  # from the probes and from the gateway
        assert "/v1/chat/completions" in {r["path"] for r in capture.requests}  # the gateway's request

    def test_the_admin_shows_why_a_key_is_refused(self, admin_client, platform_secrets):
        provider = Provider.objects.create(slug="hostile", name="Hostile", api_key_env="DJANGO_SECRET_KEY")
        page = admin_client.get(reverse("admin:catalog_provider_change", args=[provider.pk])).content.decode()
        assert "refused" in page and "platform&#x27;s own variables" in page
        assert SECRETS["DJANGO_SECRET_KEY"] not in page


def provider_form(provider: Provider, **changes) -> dict:
    fields = ("name", "slug", "kind", "website", "docs_url", "api_base_url", "api_key_env")
    data = {name: getattr(provider, name) for name in fields}
    if provider.openai_compatible:
        data["openai_compatible"] = "on"
    return {**data, "change_reason": "per provider docs", **changes}


@pytest.mark.django_db
class TestAdminForm:
    def test_the_admin_accepts_exactly_what_the_registry_accepts(self, admin_client):
        provider = Provider.objects.create(slug="groq", name="Groq", api_key_env="GROQ_API_KEY")
        url = reverse("admin:catalog_provider_change", args=[provider.pk])
        for reference in ("DJANGO_SECRET_KEY", "${secrets:DATABASE_URL}", "HOME", "sk-literal-key"):
            response = admin_client.post(url, provider_form(provider, api_key_env=reference))
            assert response.status_code == 200 and "api_key_env" in response.context["adminform"].form.errors
            provider.refresh_from_db()
            assert provider.api_key_env == "GROQ_API_KEY", reference
        for reference in ("GROQ_TOKEN", "${secrets:groq}", ""):
            assert admin_client.post(url, provider_form(provider, api_key_env=reference)).status_code == 302
            provider.refresh_from_db()
            assert provider.api_key_env == reference


def _replace(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _line_of(path, prefix: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(prefix))


@pytest.mark.django_db
class TestRegistry:
    @pytest.mark.parametrize(
        "reference",
        [
            "DJANGO_SECRET_KEY",
            "'${secrets:DJANGO_SECRET_KEY}'",
            "DATABASE_URL",
            "REDIS_URL",
            "ROUTING_GATEWAY_KEYS",
            "HOME",
        ],
    )
    def test_a_platform_variable_as_key_fails_validation_with_file_and_line(
        self, registry_dir, catalogue_state, reference
    ):
        path = registry_dir / "providers" / "openai.yaml"
        _replace(path, "api_key_env: OPENAI_API_KEY", f"api_key_env: {reference}")
        problems = [str(p) for p in validate_registry(registry_dir).problems]
        line = _line_of(path, "api_key_env:")
        assert len(problems) == 1 and problems[0].startswith(f"providers/openai.yaml:{line}: api_key_env: ")
        before = catalogue_state()
        with pytest.raises(RegistryInvalid):
            registry_load(path=registry_dir)
        assert catalogue_state() == before

    def test_the_allowed_forms_pass_and_a_literal_key_fails_the_schema(self, registry_dir):
        _replace(
            registry_dir / "providers" / "openai.yaml", "api_key_env: OPENAI_API_KEY", "api_key_env: ${secrets:openai}"
        )
        _replace(registry_dir / "providers" / "groq.yaml", "api_key_env: GROQ_API_KEY", "api_key_env: GROQ_TOKEN")
        assert validate_registry(registry_dir).ok
        path = registry_dir / "providers" / "openai.yaml"
        _replace(path, "api_key_env: ${secrets:openai}", "api_key_env: sk-live-0123456789")
        problems = [str(p) for p in validate_registry(registry_dir).problems if p.file == "providers/openai.yaml"]
        assert problems and problems[0].startswith(f"providers/openai.yaml:{_line_of(path, 'api_key_env:')}: ")
        assert "api_key_env" in problems[0]

    def test_a_load_never_moves_a_keyed_provider_to_another_host(self, registry_dir, catalogue_state, admin_client):
        registry_load(path=registry_dir)
        path = registry_dir / "providers" / "openai.yaml"
        _replace(path, "api_base_url: https://api.openai.com/v1", "api_base_url: http://127.0.0.1:9/collect")
        before = catalogue_state()
        with pytest.raises(RegistryInvalid) as raised:
            registry_load(path=registry_dir)
        problems = [str(p) for p in raised.value.report.problems]
        assert problems == [
            f"providers/openai.yaml:{_line_of(path, 'api_base_url:')}: api_base_url: provider "
            "'openai' has a key reference, so its API base URL changes only in the admin with a "
            "reason ('https://api.openai.com/v1' → 'http://127.0.0.1:9/collect'); change it there "
            "first, then load"
        ]
        assert catalogue_state() == before
        # A curator approves the move in the admin, with a reason kept in the provider's history; then it loads.
        openai = Provider.objects.get(slug="openai")
        url = reverse("admin:catalog_provider_change", args=[openai.pk])
        form = provider_form(openai, api_base_url="http://127.0.0.1:9/collect", change_reason="moved to the proxy")
        assert admin_client.post(url, form).status_code == 302
        assert openai.history.first().history_change_reason == "moved to the proxy"
        registry_load(path=registry_dir)
        assert Provider.objects.get(slug="openai").api_base_url == "http://127.0.0.1:9/collect"
        # A provider without a key reference may move with a load: no key goes anywhere.
        groq = registry_dir / "providers" / "groq.yaml"
        _replace(groq, "api_key_env: GROQ_API_KEY\n", "")
        registry_load(path=registry_dir)
        base_url = Provider.objects.get(slug="groq").api_base_url
        _replace(groq, f"api_base_url: {base_url}", "api_base_url: https://proxy.example.com/v1")
        registry_load(path=registry_dir)
        assert Provider.objects.get(slug="groq").api_base_url == "https://proxy.example.com/v1"

    def test_a_load_never_hands_a_key_in_use_to_another_host(self, registry_dir, catalogue_state, admin_client):
        """A key the catalogue already sends somewhere goes nowhere else by a registry load: not to a new provider,
        not to an existing one given another provider's reference, not to the same host over plain http."""
        registry_load(path=registry_dir)
        providers = registry_dir / "providers"
        _replace(providers / "deepseek.yaml", "api_key_env: DEEPSEEK_API_KEY", "api_key_env: GROQ_API_KEY")
        (providers / "collector.yaml").write_text(
            "slug: collector\nname: Collector\napi_base_url: https://collect.example.net/v1\n"
            "api_key_env: ${secrets:OPENAI_API_KEY}\nopenai_compatible: true\n"
        )
        (providers / "groq-plain.yaml").write_text(
            "slug: groq-plain\nname: Groq plain\napi_base_url: http://api.groq.com/openai/v1\n"
            "api_key_env: GROQ_API_KEY\n"
        )
        before = catalogue_state()
        with pytest.raises(RegistryInvalid) as raised:
            registry_load(path=registry_dir)
        problems = [str(p) for p in raised.value.report.problems]
        advice = "give the provider that key reference in the admin, with a reason, first"
        assert problems == [
            "providers/collector.yaml:4: api_key_env: '${secrets:OPENAI_API_KEY}' goes only to "
            "https://api.openai.com (openai); this would also send it to 'https://collect.example.net' for provider "
            f"'collector': {advice}",
            f"providers/deepseek.yaml:{_line_of(providers / 'deepseek.yaml', 'api_key_env:')}: api_key_env: "
            "'GROQ_API_KEY' goes only to https://api.groq.com (groq); this would also send it to "
            f"'https://api.deepseek.com' for provider 'deepseek': {advice}",
            "providers/groq-plain.yaml:4: api_key_env: 'GROQ_API_KEY' goes only to https://api.groq.com (groq); "
            f"this would also send it to 'http://api.groq.com' for provider 'groq-plain': {advice}",
        ]
        assert catalogue_state() == before
        # What stays allowed: another provider on the same origin (a second plan at one API), and a key reference
        # nothing stored uses yet (its first holders say where it goes).
        (providers / "groq-plain.yaml").unlink()
        (providers / "collector.yaml").write_text(
            "slug: collector\nname: Collector\napi_base_url: https://collect.example.net/v1\n"
            "api_key_env: COLLECTOR_API_KEY\nopenai_compatible: true\n"
        )
        (providers / "groq-batch.yaml").write_text(
            "slug: groq-batch\nname: Groq batch\napi_base_url: https://API.groq.com/openai/v1/batch\n"
            "api_key_env: GROQ_API_KEY\n"
        )
        _replace(providers / "deepseek.yaml", "api_key_env: GROQ_API_KEY", "api_key_env: DEEPSEEK_API_KEY")
        registry_load(path=registry_dir)
        assert Provider.objects.get(slug="groq-batch").api_key_env == "GROQ_API_KEY"
        # A curator gives deepseek the Groq key in the admin, with a reason; then the file may say so.
        deepseek = Provider.objects.get(slug="deepseek")
        url = reverse("admin:catalog_provider_change", args=[deepseek.pk])
        form = provider_form(deepseek, api_key_env="GROQ_API_KEY", change_reason="one account for both")
        assert admin_client.post(url, form).status_code == 302
        _replace(providers / "deepseek.yaml", "api_key_env: DEEPSEEK_API_KEY", "api_key_env: GROQ_API_KEY")
        registry_load(path=registry_dir)
        assert Provider.objects.get(slug="deepseek").api_key_env == "GROQ_API_KEY"
