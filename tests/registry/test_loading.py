"""Loading the registry: counts, idempotency (no writes on reload), removal, atomicity and history, on PostgreSQL."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Alias, Mapping, Model, Provider
from registry.loading import RegistryInvalid, registry_load

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


class TestFirstLoad:
    def test_counts_every_entity_as_added(self, registry_dir):
        result = registry_load(path=registry_dir)
        counts = {name: (c.added, c.updated, c.unchanged) for name, c in result.counts.items()}
        assert counts == {
            "providers": (5, 0, 0),
            "families": (3, 0, 0),
            "models": (4, 0, 0),
            "aliases": (11, 0, 0),
            "mappings": (6, 0, 0),
        }

    def test_rows_carry_values_references_and_provenance(self, registry_dir):
        registry_load(path=registry_dir)
        mapping = Mapping.objects.select_related("provider", "model").get(provider_model_id="deepseek-reasoner")
        assert (mapping.provider.slug, mapping.model.slug) == ("deepseek", "deepseek-r1")
        assert mapping.price_cached_input == Decimal("0.0028")
        assert mapping.delivery_modes == ["sync", "streaming"]
        assert mapping.registry_file == "mappings/deepseek/deepseek-r1.yaml"
        model = Model.objects.get(slug="deepseek-r1")
        assert model.parameters_active == 37_000_000_000 and model.open_weights
        assert str(model.release_date) == "2025-01-20"
        alias = Alias.objects.get(alias="llama-3.3-70b-versatile")
        assert (alias.model.slug, alias.provider.slug) == ("llama-3.3-70b-instruct", "groq")

    def test_every_added_row_gets_a_history_record_with_the_reason(self, registry_dir):
        registry_load(path=registry_dir)
        records = Model.history.filter(slug="gpt-4o")
        assert [(r.history_type, r.history_change_reason) for r in records] == [("+", "registry load")]

    def test_command_prints_added_updated_unchanged(self, registry_dir):
        out = io.StringIO()
        call_command("load_registry", path=registry_dir, stdout=out)
        assert "29 added, 0 updated, 0 unchanged" in out.getvalue()


class TestReload:
    def test_unchanged_registry_writes_no_rows(self, registry_dir):
        registry_load(path=registry_dir)
        with CaptureQueriesContext(connection) as queries:
            result = registry_load(path=registry_dir)
        assert _writes(queries.captured_queries) == []
        assert result.rows_written == 0
        assert result.total("unchanged") == 29

    def test_a_changed_price_updates_only_that_mapping(self, registry_dir):
        registry_load(path=registry_dir)
        path = registry_dir / "mappings" / "groq" / "llama-3.3-70b-instruct.yaml"
        path.write_text(path.read_text().replace("input: 0.59", "input: 0.6"))
        result = registry_load(path=registry_dir)
        assert (result.counts["mappings"].updated, result.rows_written) == (1, 1)
        mapping = Mapping.objects.get(provider_model_id="llama-3.3-70b-versatile")
        assert mapping.price_input == Decimal("0.6")
        history = mapping.history.order_by("history_date")
        assert [h.price_input for h in history] == [Decimal("0.59"), Decimal("0.6")]
        assert history.last().history_type == "~"

    def test_entry_removed_from_registry_is_kept_and_marked(self, registry_dir):
        registry_load(path=registry_dir)
        (registry_dir / "mappings" / "openai" / "gpt-4o-mini.yaml").unlink()
        (registry_dir / "models" / "openai" / "gpt-4o-mini.yaml").unlink()
        result = registry_load(path=registry_dir)
        assert result.counts["models"].removed == 1
        assert result.counts["mappings"].removed == 1
        assert result.counts["aliases"].removed == 2
        model = Model.objects.get(slug="gpt-4o-mini")
        assert model.in_registry is False
        assert model.aliases.count() == 2  # still resolvable, still visible
        # Coming back puts it back in the registry.
        (registry_dir / "models" / "openai" / "gpt-4o-mini.yaml").write_text(
            "slug: gpt-4o-mini\nname: GPT-4o mini\ncreator: openai\n"
        )
        registry_load(path=registry_dir)
        assert Model.objects.get(slug="gpt-4o-mini").in_registry is True

    def test_successor_pointing_at_a_new_model_is_linked(self, registry_dir):
        registry_load(path=registry_dir)
        (registry_dir / "models" / "openai" / "gpt-5.yaml").write_text("slug: gpt-5\nname: GPT-5\ncreator: openai\n")
        path = registry_dir / "models" / "openai" / "gpt-4o.yaml"
        path.write_text(path.read_text().replace("family: gpt\n", "family: gpt\nsuccessor: gpt-5\n"))
        registry_load(path=registry_dir)
        assert Model.objects.get(slug="gpt-4o").successor.slug == "gpt-5"
        with CaptureQueriesContext(connection) as queries:
            registry_load(path=registry_dir)
        assert _writes(queries.captured_queries) == []


class TestAtomicity:
    def test_database_failure_midway_rolls_back_everything(self, registry_dir, catalogue_state):
        """A real database error on the last table (mappings) undoes the providers written before it, and is reported
        as the FILE:LINE of the refused row instead of escaping as a database exception."""
        registry_load(path=registry_dir)
        (registry_dir / "providers" / "cerebras.yaml").write_text("slug: cerebras\nname: Cerebras\n")
        path = registry_dir / "mappings" / "openai" / "gpt-4o.yaml"
        path.write_text(path.read_text().replace("input: 2.5", "input: 2.75"))
        before = catalogue_state()
        with connection.cursor() as cursor:
            cursor.execute("""
                CREATE FUNCTION mg_fail() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql;
                CREATE TRIGGER mg_fail BEFORE INSERT OR UPDATE ON catalog_mapping
                FOR EACH ROW EXECUTE FUNCTION mg_fail();
            """)
        with pytest.raises(RegistryInvalid) as raised:
            registry_load(path=registry_dir)
        assert [str(p) for p in raised.value.report.problems] == [
            "mappings/openai/gpt-4o.yaml:3: the database refused this mapping: injected failure"
        ]
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER mg_fail ON catalog_mapping; DROP FUNCTION mg_fail();")
        assert catalogue_state() == before
        assert not Provider.objects.filter(slug="cerebras").exists()


class TestChangeSignal:
    def test_load_announces_exactly_the_models_and_providers_it_changed(
        self, registry_dir, django_capture_on_commit_callbacks
    ):
        from catalog.signals import catalogue_changed

        registry_load(path=registry_dir)
        received = []

        def listener(sender, model_ids, provider_ids, **kwargs):
            received.append(
                (
                    set(Model.objects.filter(pk__in=model_ids).values_list("slug", flat=True)),
                    set(Provider.objects.filter(pk__in=provider_ids).values_list("slug", flat=True)),
                )
            )

        catalogue_changed.connect(listener)
        try:
            path = registry_dir / "mappings" / "groq" / "llama-3.3-70b-instruct.yaml"
            path.write_text(path.read_text().replace("input: 0.59", "input: 0.6"))
            alias_file = registry_dir / "models" / "openai" / "gpt-4o-mini.yaml"
            alias_file.write_text(alias_file.read_text().replace("- openai/gpt-4o-mini\n", ""))
            with django_capture_on_commit_callbacks(execute=True):
                registry_load(path=registry_dir)
            with django_capture_on_commit_callbacks(execute=True):
                registry_load(path=registry_dir)  # unchanged: no announcement
        finally:
            catalogue_changed.disconnect(listener)
        assert received == [({"llama-3.3-70b-instruct", "gpt-4o-mini"}, {"groq"})]
