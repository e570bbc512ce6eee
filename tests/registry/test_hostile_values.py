"""Hostile registry values: deep nesting, numbers and text the database cannot keep, loops and look-alike ids.

Each case gets a `FILE[:LINE]: message` from validate_registry, exit code 1 from both commands, and a database left
exactly as it was by load_registry; a row the database itself refuses is reported the same way.
"""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from registry.yamlsafe import MAX_DEPTH
from tests.registry.hostile import Case, both, hostile_registry_tests, matches, replace_text, write_file


def _nested_block(depth: int) -> str:
    return "slug: groq\nname:\n" + "".join("  " * level + "-\n" for level in range(depth)) + "  " * depth + "x\n"


LONG_PROVIDER = "a" * 101
LONG_MODEL = "m" * 151
CYRILLIC_O = "\u043e"

HOSTILE_VALUES: list[Case] = [
    (
        "deep-flow-nesting",
        write_file("providers/groq.yaml", "slug: groq\nname: " + "[" * 20000 + "]" * 20000 + "\n"),
        "providers/groq.yaml:2:",
        f"nesting deeper than {MAX_DEPTH} levels",
    ),
    (
        "deep-block-nesting",
        write_file("providers/groq.yaml", _nested_block(100)),
        f"providers/groq.yaml:{MAX_DEPTH + 2}:",
        f"nesting deeper than {MAX_DEPTH} levels",
    ),
    (
        "deep-compact-nesting",
        write_file("providers/groq.yaml", "slug: groq\nname:\n" + "- " * 100 + "x\n"),
        "providers/groq.yaml:3:",
        f"nesting deeper than {MAX_DEPTH} levels",
    ),
    (
        "nan-price",
        replace_text("mappings/groq/llama-3.3-70b-instruct.yaml", "input: 0.59", "input: .nan"),
        "mappings/groq/llama-3.3-70b-instruct.yaml:5:",
        "'.nan' is not a finite number",
    ),
    (
        "infinite-price",
        replace_text("mappings/groq/llama-3.3-70b-instruct.yaml", "output: 0.79", "output: .inf"),
        "mappings/groq/llama-3.3-70b-instruct.yaml:6:",
        "'.inf' is not a finite number",
    ),
    (
        "price-below-stored-precision",
        replace_text("mappings/groq/llama-3.3-70b-instruct.yaml", "input: 0.59", "input: 1.0e-7"),
        "mappings/groq/llama-3.3-70b-instruct.yaml:5:",
        "offers[0].pricing.input: 1e-07 has more than 6 decimal places: the database would store 0",
    ),
    (
        "price-with-seven-decimals",
        replace_text("mappings/groq/llama-3.3-70b-instruct.yaml", "output: 0.79", "output: 0.7900004"),
        "mappings/groq/llama-3.3-70b-instruct.yaml:6:",
        "would store 0.79, a different price",
    ),
    (
        "nul-in-name",
        replace_text("providers/groq.yaml", "name: Groq", 'name: "Gr\\0oq"'),
        "providers/groq.yaml:2:",
        "name: 'Gr\\x00oq' holds U+0000",
    ),
    (
        "c1-control-in-name",
        replace_text("models/openai/gpt-4o.yaml", "name: GPT-4o", 'name: "GPT\\x9b4o"'),
        "models/openai/gpt-4o.yaml:2:",
        "holds U+009B",
    ),
    (
        "bidi-override-in-family-name",
        replace_text("families.yaml", "name: GPT", 'name: "GPT\\u202e"'),
        "families.yaml:",
        "holds U+202E RIGHT-TO-LEFT OVERRIDE",
    ),
    (
        "newline-in-slug",
        replace_text("providers/groq.yaml", "slug: groq", 'slug: "groq\\n"'),
        "providers/groq.yaml:1:",
        "slug: 'groq\\n' holds U+000A",
    ),
    (
        "provider-slug-longer-than-column",
        write_file(f"providers/{LONG_PROVIDER}.yaml", f"slug: {LONG_PROVIDER}\nname: Long\n"),
        f"providers/{LONG_PROVIDER}.yaml:1:",
        "is too long (at most 100 characters)",
    ),
    (
        "model-slug-longer-than-column",
        write_file(f"models/openai/{LONG_MODEL}.yaml", f"slug: {LONG_MODEL}\nname: Long\ncreator: openai\n"),
        f"models/openai/{LONG_MODEL}.yaml:1:",
        "is too long (at most 150 characters)",
    ),
    (
        "parameters-beyond-bigint-float",
        replace_text("models/deepseek/deepseek-r1.yaml", "parameters_total: 671000000000", "parameters_total: 1.0e+23"),
        "models/deepseek/deepseek-r1.yaml:12:",
        "parameters_total: 1e+23 is greater than the maximum of 9223372036854775807",
    ),
    (
        "parameters-beyond-bigint-integer",
        replace_text(
            "models/deepseek/deepseek-r1.yaml", "parameters_total: 671000000000", "parameters_total: " + "9" * 20
        ),
        "models/deepseek/deepseek-r1.yaml:12:",
        "is greater than the maximum of 9223372036854775807",
    ),
    (
        "parameters-as-float",
        replace_text(
            "models/deepseek/deepseek-r1.yaml", "parameters_total: 671000000000", "parameters_total: 6.71e+11"
        ),
        "models/deepseek/deepseek-r1.yaml:12:",
        "671000000000.0 is not a whole number",
    ),
    (
        "date-not-in-calendar",
        replace_text("models/openai/gpt-4o.yaml", "'2024-05-13'", "'2024-02-30'"),
        "models/openai/gpt-4o.yaml:5:",
        "release_date: '2024-02-30' is not a date of the calendar",
    ),
    (
        "successor-cycle",
        both(
            replace_text("models/openai/gpt-4o.yaml", "family: gpt\n", "family: gpt\nsuccessor: gpt-4o-mini\n"),
            replace_text("models/openai/gpt-4o-mini.yaml", "family: gpt\n", "family: gpt\nsuccessor: gpt-4o\n"),
        ),
        "models/openai/gpt-4o.yaml:5:",
        "successor: 'gpt-4o-mini' closes a loop (gpt-4o → gpt-4o-mini → gpt-4o)",
    ),
    (
        "cyrillic-alias",
        replace_text("models/openai/gpt-4o.yaml", "- gpt-4o-2024-08-06", f"- gpt-4{CYRILLIC_O}-2024-08-06"),
        "models/openai/gpt-4o.yaml:13:",
        "holds U+043E CYRILLIC SMALL LETTER O",
    ),
    (
        "zero-width-alias",
        replace_text("models/openai/gpt-4o.yaml", "- gpt-4o-2024-08-06", '- "gpt-4o\\u200b-2024-08-06"'),
        "models/openai/gpt-4o.yaml:13:",
        "holds U+200B ZERO WIDTH SPACE",
    ),
    (
        "cyrillic-provider-model-id",
        replace_text(
            "mappings/groq/llama-3.3-70b-instruct.yaml", "llama-3.3-70b-versatile", "llama-3.3-70b-versatil\u0435"
        ),
        "mappings/groq/llama-3.3-70b-instruct.yaml:3:",
        "holds U+0435 CYRILLIC SMALL LETTER IE",
    ),
    (
        "non-ascii-url",
        replace_text("providers/groq.yaml", "https://console.groq.com", f"https://c{CYRILLIC_O}nsole.groq.com"),
        "providers/groq.yaml:3:",
        "holds U+043E",
    ),
    (
        "look-alike-alias-of-another-model",
        replace_text("models/openai/gpt-4o.yaml", "- gpt-4o-2024-08-06", "- gpt-4o-rnini"),
        "models/openai/gpt-4o.yaml:13:",
        "alias 'gpt-4o-rnini' looks like 'gpt-4o-mini' (models/openai/gpt-4o-mini.yaml:1)",
    ),
    (
        "alias-differing-only-by-case",
        replace_text("models/openai/gpt-4o.yaml", "- gpt-4o-2024-08-06", "- GPT-4o-Mini"),
        "models/openai/gpt-4o.yaml:13:",
        "'GPT-4o-Mini' looks like 'gpt-4o-mini'",
    ),
    (
        "look-alike-provider-model-ids",
        write_file(
            "mappings/groq/gpt-4o.yaml", "model: gpt-4o\noffers:\n- provider_model_id: LLama-3.3-70b-versatile\n"
        ),
        "mappings/groq/llama-3.3-70b-instruct.yaml:3:",
        "'llama-3.3-70b-versatile' looks like 'LLama-3.3-70b-versatile'",
    ),
    (
        "look-alike-provider-slugs",
        write_file("providers/0penai.yaml", "slug: 0penai\nname: Not OpenAI\n"),
        "providers/openai.yaml:1:",
        "provider slug 'openai' looks like '0penai'",
    ),
]


class TestHostileValues(hostile_registry_tests(HOSTILE_VALUES)):
    """Values the registry refuses to load."""


@pytest.mark.django_db
class TestDatabaseRefusal:
    """A row the database refuses (here a real trigger) is named as FILE:LINE, exit 1, and nothing is written."""

    @pytest.mark.parametrize(
        ("table", "condition", "location"),
        [
            ("catalog_mapping", "NEW.provider_model_id = 'gpt-4o'", "mappings/openai/gpt-4o.yaml:3:"),
            ("catalog_model", "NEW.slug = 'gpt-4o-mini'", "models/openai/gpt-4o-mini.yaml:1:"),
            ("catalog_alias", "NEW.alias = 'openai/gpt-4o-mini'", "models/openai/gpt-4o-mini.yaml:13:"),
            ("catalog_family", "NEW.slug = 'llama'", "families.yaml:8:"),
        ],
    )
    def test_refused_row_is_reported_at_its_file_and_line(
        self, registry_dir, catalogue_state, table, condition, location, capsys
    ):
        before = catalogue_state()
        with connection.cursor() as cursor:
            cursor.execute(f"""
                CREATE FUNCTION mg_refuse() RETURNS trigger AS $$
                BEGIN IF {condition} THEN RAISE EXCEPTION 'injected refusal'; END IF; RETURN NEW; END $$
                LANGUAGE plpgsql;
                CREATE TRIGGER mg_refuse BEFORE INSERT OR UPDATE ON {table}
                FOR EACH ROW EXECUTE FUNCTION mg_refuse();
            """)
        with pytest.raises(CommandError) as raised:
            call_command("load_registry", path=registry_dir)
        assert raised.value.returncode == 1
        err = capsys.readouterr().err
        assert matches(err, location, "the database refused this "), err
        assert "injected refusal" in err and "Traceback" not in err
        assert catalogue_state() == before
