"""The routing configuration: a YAML file loaded idempotently into capabilities, pools and key references, checked
with clear FILE:LINE messages (a bad file changes nothing), exported back, and routed by the gateway."""

from __future__ import annotations

import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Provider
from routing.client import AsyncGateway
from routing.config.exporting import routing_config_export
from routing.config.loading import RoutingConfigInvalid, routing_config_load
from routing.config.records import ConfigurationLoad
from routing.models import Capability, Pool, RetryScope, Strategy
from tests.routing.conftest import run

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "routing.example.yaml"

CONFIG = """\
version: 1
capabilities:
  - slug: support-chat
    name: Support chat
    parent: tool-use
    description: For the support assistant.
    excludes: [reasoning]
pools:
  - slug: support-primary
    name: Support primary
    capability: support-chat
    priority: 10
    strategy: priority
    members: [chat-model]
    exclude_providers: [prov-c]
    priority_list: ["@prov-b"]
    retry:
      max_attempts: 2
      scope: same_model
    rotation:
      cooldown_seconds: 300
providers:
  prov-c:
    api_key: ${secrets:PROVIDER_C_KEY}
"""


def write(tmp_path: Path, text: str, name: str = "routing.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}"


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def state() -> tuple:
    pools = Pool.objects.order_by("slug").values_list("slug", "strategy", "max_attempts", "from_config")
    capabilities = Capability.objects.order_by("slug").values_list("slug", "parent__slug", "from_config")
    return list(pools), list(capabilities), dict(Provider.objects.values_list("slug", "api_key_env"))


class TestLoad:
    def test_a_file_creates_its_rows_marked_from_configuration(self, catalogue, tmp_path):
        result = routing_config_load(write(tmp_path, CONFIG))
        assert (
            "capability support-chat: created" in result.changes and "pool support-primary: created" in result.changes
        )
        capability = Capability.objects.get(slug="support-chat")
        assert capability.from_config and capability.parent.slug == "tool-use"
        assert capability.excluded_capabilities == ["reasoning"] and capability.catalogue_capabilities == []
        pool = Pool.objects.get(slug="support-primary")
        assert pool.from_config and pool.capability == capability
        assert (pool.priority, pool.strategy, pool.priority_list) == (10, Strategy.PRIORITY, ["@prov-b"])
        assert (pool.max_attempts, pool.retry_scope, pool.cooldown_seconds) == (2, RetryScope.SAME_MODEL, 300)
        assert pool.max_total_seconds == 30.0  # unstated: the model's default
        assert [m.slug for m in pool.members.all()] == ["chat-model"]
        assert [p.slug for p in pool.exclude_providers.all()] == ["prov-c"]
        assert Provider.objects.get(slug="prov-c").api_key_env == "${secrets:PROVIDER_C_KEY}"
        assert not Capability.objects.get(slug="tool-use").from_config  # named as a parent, not declared

    def test_a_second_load_writes_nothing(self, catalogue, tmp_path):
        path = write(tmp_path, CONFIG)
        routing_config_load(path)
        with CaptureQueriesContext(connection) as queries:
            result = routing_config_load(path)
        assert result.changes == [] and result.load is None
        assert writes(queries.captured_queries) == []
        assert ConfigurationLoad.objects.count() == 1

    def test_a_changed_file_changes_only_what_changed(self, catalogue, tmp_path):
        routing_config_load(write(tmp_path, CONFIG))
        edited = CONFIG.replace("max_attempts: 2", "max_attempts: 5").replace("exclude_providers: [prov-c]", "")
        result = routing_config_load(write(tmp_path, edited))
        assert result.changes == ["pool support-primary: max_attempts, exclude_providers"]
        pool = Pool.objects.get(slug="support-primary")
        assert pool.max_attempts == 5 and not pool.exclude_providers.exists()
        assert ConfigurationLoad.objects.count() == 2 and ConfigurationLoad.objects.latest().changes == result.changes

    def test_a_curators_row_named_in_the_file_is_taken_over(self, catalogue, make_pool, tmp_path):
        make_pool("support-primary", strategy=Strategy.CHEAPEST)
        routing_config_load(write(tmp_path, CONFIG))
        pool = Pool.objects.get(slug="support-primary")
        assert pool.from_config and pool.strategy == Strategy.PRIORITY and pool.capability.slug == "support-chat"

    def test_rows_the_file_no_longer_declares_are_removed_or_handed_back(self, catalogue, make_pool, tmp_path):
        routing_config_load(write(tmp_path, CONFIG))
        make_pool("curated", capability="tool-use")
        Pool.objects.filter(slug="curated").update(capability=Capability.objects.get(slug="support-chat"))
        result = routing_config_load(write(tmp_path, "version: 1\n"))
        assert "pool support-primary: removed" in result.changes
        assert not Pool.objects.filter(slug="support-primary").exists()
        kept = Capability.objects.get(slug="support-chat")  # a curator's pool still hangs on it
        assert not kept.from_config and Pool.objects.filter(slug="curated").exists()
        Pool.objects.filter(slug="curated").delete()
        routing_config_load(write(tmp_path, CONFIG))
        routing_config_load(write(tmp_path, "version: 1\n"))
        assert not Capability.objects.filter(slug="support-chat").exists()

    def test_the_gateway_routes_a_configured_capability_by_its_pool(self, catalogue, upstreams, tmp_path):
        routing_config_load(write(tmp_path, CONFIG))
        create = AsyncGateway().chat.completions.create
        answer = run(create, model="support-chat", messages=[{"role": "user", "content": "hi"}])
        assert answer["model"] == "chat-model-b"  # the priority list's first, prov-c excluded
        assert [r["json"]["model"] for r in upstreams.b.requests] == ["chat-model-b"]


class TestProblems:
    def load_refused(self, path: Path) -> list[str]:
        before = state()
        with pytest.raises(RoutingConfigInvalid) as refused:
            routing_config_load(path)
        assert state() == before and not ConfigurationLoad.objects.exists()
        return [str(problem) for problem in refused.value.problems]

    def test_a_schema_error_names_the_file_line_and_field(self, catalogue, tmp_path):
        path = write(tmp_path, CONFIG.replace("strategy: priority", "strategy: fastest"))
        [problem] = self.load_refused(path)
        assert problem.startswith(f"{path}:13: pools[0].strategy: 'fastest' is not one of")

    def test_unknown_names_are_each_reported_at_their_line(self, catalogue, tmp_path):
        text = CONFIG.replace("parent: tool-use", "parent: tool-users").replace("[chat-model]", "[chat-modle]")
        text = text.replace("[prov-c]", "[prov-z]")
        problems = self.load_refused(write(tmp_path, text))
        assert [p.split(": ", 1)[1] for p in problems] == [
            "capabilities[0].parent: unknown capability 'tool-users'",
            "pools[0].members[0]: unknown model 'chat-modle' (a catalogue model slug)",
            "pools[0].exclude_providers[0]: unknown provider 'prov-z'",
        ]
        assert [int(p.split(":")[1]) for p in problems] == [5, 14, 15]

    def test_a_key_written_in_place_of_a_reference_is_refused_and_never_echoed(self, catalogue, tmp_path):
        secret = "sk-live-9f8e7d6c5b4a3928"
        problems = self.load_refused(write(tmp_path, CONFIG.replace("${secrets:PROVIDER_C_KEY}", secret)))
        assert len(problems) == 1 and "providers.prov-c.api_key: not a secret reference" in problems[0]
        assert secret not in problems[0]

    def test_a_platform_variable_cannot_be_a_providers_key(self, catalogue, tmp_path):
        [problem] = self.load_refused(write(tmp_path, CONFIG.replace("${secrets:PROVIDER_C_KEY}", "DATABASE_URL")))
        assert "providers.prov-c.api_key: 'DATABASE_URL' is one of the platform's own variables" in problem

    def test_a_key_another_provider_uses_is_not_handed_to_another_host(self, catalogue, tmp_path):
        for reference in ("PROVIDER_B_TEST_API_KEY", "${secrets:PROVIDER_A_TEST_API_KEY}"):
            holder = "prov-b" if reference.startswith("PROVIDER_B") else "prov-a"
            origin = origin_of(catalogue.providers[holder[-1]].api_base_url)
            [problem] = self.load_refused(write(tmp_path, CONFIG.replace("${secrets:PROVIDER_C_KEY}", reference)))
            assert f"providers.prov-c.api_key: {reference!r} goes only to {origin} ({holder}); this would also " in (
                problem
            )
            assert f"send it to '{origin_of(catalogue.providers['c'].api_base_url)}' for provider 'prov-c'" in problem
        # Given to prov-c in the admin (same host now), the file may name it.
        Provider.objects.filter(slug="prov-c").update(api_key_env="PROVIDER_B_TEST_API_KEY")
        routing_config_load(write(tmp_path, CONFIG.replace("${secrets:PROVIDER_C_KEY}", "PROVIDER_B_TEST_API_KEY")))

    def test_a_loop_in_the_tree_and_a_bad_pattern_are_refused(self, catalogue, tmp_path):
        text = """\
        version: 1
        capabilities:
          - {slug: a, name: A, parent: b, member_pattern: "code("}
          - {slug: b, name: B, parent: a}
        """
        problems = self.load_refused(write(tmp_path, text))
        assert any("capabilities[0].parent: closes a loop (a → b → a)" in p for p in problems)
        assert any("capabilities[0].member_pattern: not a regular expression" in p for p in problems)

    def test_yaml_syntax_and_duplicate_slugs_are_reported_with_their_line(self, catalogue, tmp_path):
        [syntax] = self.load_refused(write(tmp_path, "version: 1\npools: [\n"))
        assert syntax.startswith(f"{tmp_path / 'routing.yaml'}:3: invalid YAML")
        again = "\n  - {slug: support-primary, name: Again, capability: support-chat}\nproviders:"
        twice = CONFIG.replace("\nproviders:", again)
        [duplicate] = self.load_refused(write(tmp_path, twice))
        assert ":22: pools[1].slug: 'support-primary' is declared twice (first at line 9)" in duplicate


class TestExport:
    def test_the_export_loads_back_without_a_write_and_exports_the_same_text(self, catalogue, tmp_path):
        routing_config_load(write(tmp_path, CONFIG))
        exported = routing_config_export()
        assert "api_key: ${secrets:PROVIDER_C_KEY}" in exported and "max_attempts: 2" in exported
        assert "max_total_seconds" not in exported  # defaults are left out; the loader fills them back
        path = write(tmp_path, exported, "exported.yaml")
        with CaptureQueriesContext(connection) as queries:
            assert routing_config_load(path).changes == []
        assert writes(queries.captured_queries) == []
        assert routing_config_export() == exported

    def test_only_configuration_rows_are_exported(self, catalogue, make_pool, tmp_path):
        make_pool("curated")
        routing_config_load(write(tmp_path, CONFIG))
        exported = routing_config_export()
        assert "support-primary" in exported and "curated" not in exported and "text-generation\n" not in exported


class TestCommands:
    def test_the_example_file_loads_and_reloads_as_a_no_op(self, tree, tmp_path, capsys):
        for slug in ("togetherai", "deepinfra"):
            Provider.objects.create(slug=slug, name=slug)
        call_command("routing_load", str(EXAMPLE))
        assert "loaded" in capsys.readouterr().out
        assert set(Pool.objects.filter(from_config=True).values_list("slug", flat=True)) == {
            "support-primary",
            "support-fallback",
            "code-fast",
        }
        call_command("routing_load", str(EXAMPLE))
        assert "already up to date: nothing written" in capsys.readouterr().out
        output = tmp_path / "out.yaml"
        call_command("routing_export", "--output", str(output))
        call_command("routing_load", str(output))
        assert "nothing written" in capsys.readouterr().out

    def test_a_bad_file_fails_the_command_with_its_problems(self, catalogue, tmp_path, capsys):
        path = write(tmp_path, CONFIG.replace("version: 1", "version: 2"))
        with pytest.raises(CommandError, match="1 problem"):
            call_command("routing_load", str(path))
        assert f"{path}:1: version: 1 was expected" in capsys.readouterr().err
        assert not Pool.objects.exists()

    def test_check_writes_nothing_and_an_unset_setting_loads_nothing(self, catalogue, tmp_path, settings, capsys):
        call_command("routing_load", str(write(tmp_path, CONFIG)), "--check")
        assert "no problems" in capsys.readouterr().out and not Pool.objects.exists()
        settings.ROUTING_CONFIG = ""
        call_command("routing_load")
        assert "ROUTING_CONFIG is unset" in capsys.readouterr().out
        settings.ROUTING_CONFIG = str(write(tmp_path, CONFIG))
        call_command("routing_load")
        assert Pool.objects.get().slug == "support-primary"


def test_the_admin_shows_which_rows_come_from_the_configuration(catalogue, make_pool, tmp_path, admin_client):
    make_pool("curated")
    routing_config_load(write(tmp_path, CONFIG))
    page = admin_client.get("/admin/routing/pool/?from_config__exact=1").content.decode()
    assert "support-primary" in page and "curated" not in page and "From configuration" in page
    change = admin_client.get(f"/admin/routing/pool/{Pool.objects.get(slug='support-primary').pk}/change/")
    assert "From configuration" in change.content.decode()
