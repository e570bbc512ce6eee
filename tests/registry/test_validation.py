"""The bad-registry corpus: every kind of broken registry gets a clear FILE:LINE error and loads nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from registry.validation import validate_registry
from tests.registry.hostile import replace_text, write_file

BILLION_LAUGHS = """\
slug: openai
name: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _remove(path: str):
    return lambda root: (root / path).unlink()


# (case id, mutation, expected "FILE:LINE: text" prefix, a fragment of the message)
CORPUS = [
    (
        "malformed-yaml",
        replace_text("models/openai/gpt-4o.yaml", "name: GPT-4o", "name: [GPT-4o"),
        "models/openai/gpt-4o.yaml:",
        "invalid YAML",
    ),
    (
        "bad-indentation",
        replace_text("providers/groq.yaml", "name: Groq", "name: Groq\n  bad: indent"),
        "providers/groq.yaml:3:",
        "invalid YAML",
    ),
    (
        "missing-required-field",
        replace_text("providers/groq.yaml", "name: Groq\n", ""),
        "providers/groq.yaml:1:",
        "'name' is a required property",
    ),
    (
        "wrong-type",
        replace_text("models/openai/gpt-4o.yaml", "context_window: 128000", "context_window: big"),
        "models/openai/gpt-4o.yaml:6:",
        "context_window: 'big' is not of type 'integer'",
    ),
    (
        "negative-price",
        replace_text("mappings/groq/llama-3.3-70b-instruct.yaml", "input: 0.59", "input: -0.59"),
        "mappings/groq/llama-3.3-70b-instruct.yaml:5:",
        "offers[0].pricing.input: -0.59 is less than the minimum",
    ),
    (
        "unknown-field",
        replace_text("providers/groq.yaml", "name: Groq", "name: Groq\nfounded: 2016"),
        "providers/groq.yaml:1:",
        "Additional properties are not allowed ('founded' was unexpected)",
    ),
    (
        "bad-enum",
        replace_text("models/openai/gpt-4o.yaml", "family: gpt", "family: gpt\nstatus: alive"),
        "models/openai/gpt-4o.yaml:5:",
        "status: 'alive' is not one of",
    ),
    (
        "bad-date",
        replace_text("models/openai/gpt-4o.yaml", "'2024-05-13'", "'2024-13-45'"),
        "models/openai/gpt-4o.yaml:5:",
        "release_date: '2024-13-45' does not match",
    ),
    (
        "bad-slug",
        replace_text("providers/groq.yaml", "slug: groq", "slug: Groq Cloud"),
        "providers/groq.yaml:1:",
        "slug: 'Groq Cloud' does not match",
    ),
    (
        "bad-modality",
        replace_text("models/openai/gpt-4o-mini.yaml", "output_modalities: [text]", "output_modalities: [text, smell]"),
        "models/openai/gpt-4o-mini.yaml:9:",
        "output_modalities[1]: 'smell' is not one of",
    ),
    (
        "active-over-total",
        replace_text(
            "models/deepseek/deepseek-r1.yaml", "parameters_active: 37000000000", "parameters_active: 999000000000"
        ),
        "models/deepseek/deepseek-r1.yaml:13:",
        "parameters_active: 999000000000 is more than parameters_total",
    ),
    (
        "dangling-mapping-model",
        replace_text(
            "mappings/groq/llama-3.3-70b-instruct.yaml", "model: llama-3.3-70b-instruct", "model: llama-9-70b"
        ),
        "mappings/groq/llama-3.3-70b-instruct.yaml:1:",
        "unknown model 'llama-9-70b'",
    ),
    (
        "dangling-mapping-provider",
        write_file("mappings/nosuchcloud/gpt-4o.yaml", "model: gpt-4o\noffers:\n- provider_model_id: x\n"),
        "mappings/nosuchcloud/gpt-4o.yaml",
        "unknown provider 'nosuchcloud'",
    ),
    (
        "dangling-alias-provider",
        replace_text("models/meta/llama-3.3-70b-instruct.yaml", "provider: groq", "provider: groqq"),
        "models/meta/llama-3.3-70b-instruct.yaml:19:",
        "aliases[2].provider: unknown provider 'groqq'",
    ),
    (
        "dangling-family",
        replace_text("models/openai/gpt-4o.yaml", "family: gpt", "family: gpt-9"),
        "models/openai/gpt-4o.yaml:4:",
        "unknown family 'gpt-9'",
    ),
    (
        "dangling-successor",
        replace_text("models/openai/gpt-4o.yaml", "family: gpt", "family: gpt\nsuccessor: gpt-9"),
        "models/openai/gpt-4o.yaml:5:",
        "unknown model 'gpt-9'",
    ),
    (
        "dangling-creator",
        replace_text("providers/meta.yaml", "slug: meta", "slug: meta"),  # then removed below
        "models/meta/llama-3.3-70b-instruct.yaml:3:",
        "unknown provider 'meta'",
    ),
    (
        "duplicate-model-slug",
        write_file("models/meta/gpt-4o.yaml", "slug: gpt-4o\nname: Copy\ncreator: meta\n"),
        "models/openai/gpt-4o.yaml:1:",
        "duplicate model slug 'gpt-4o' (already defined at models/meta/gpt-4o.yaml:1)",
    ),
    (
        "duplicate-alias",
        replace_text("models/openai/gpt-4o-mini.yaml", "- openai/gpt-4o-mini", "- gpt-4o-2024-08-06"),
        "models/openai/gpt-4o.yaml:13:",
        "duplicate alias 'gpt-4o-2024-08-06'",
    ),
    (
        "alias-is-another-slug",
        replace_text("models/openai/gpt-4o-mini.yaml", "- openai/gpt-4o-mini", "- gpt-4o"),
        "models/openai/gpt-4o-mini.yaml:13:",
        "alias 'gpt-4o' is the slug of another model",
    ),
    (
        "duplicate-provider-model-id",
        write_file(
            "mappings/groq/gpt-4o.yaml", "model: gpt-4o\noffers:\n- provider_model_id: llama-3.3-70b-versatile\n"
        ),
        "mappings/groq/llama-3.3-70b-instruct.yaml:3:",
        "duplicate provider_model_id (provider groq) 'llama-3.3-70b-versatile'",
    ),
    (
        "duplicate-family",
        replace_text("families.yaml", "- slug: llama", "- slug: gpt"),
        "families.yaml:8:",
        "duplicate family slug 'gpt'",
    ),
    (
        "duplicate-yaml-key",
        replace_text("providers/groq.yaml", "name: Groq", "name: Groq\nname: Groq Cloud"),
        "providers/groq.yaml:3:",
        "duplicate key 'name'",
    ),
    (
        "slug-not-file-name",
        replace_text("providers/groq.yaml", "slug: groq", "slug: groqcloud"),
        "providers/groq.yaml:1:",
        "does not match the file name",
    ),
    ("empty-file", write_file("providers/groq.yaml", ""), "providers/groq.yaml:1:", "file is empty"),
    ("comments-only", write_file("providers/groq.yaml", "# nothing here\n"), "providers/groq.yaml:1:", "no document"),
    (
        "non-utf8",
        write_file("providers/groq.yaml", b"slug: groq\nname: Gr\xf6q\n"),
        "providers/groq.yaml:2:",
        "not valid UTF-8",
    ),
    (
        "yaml-bomb",
        write_file("providers/openai.yaml", BILLION_LAUGHS),
        "providers/openai.yaml:2:",
        "anchors are not allowed",
    ),
    (
        "python-object",
        write_file("providers/groq.yaml", "slug: !!python/object/apply:os.system ['echo pwned']\n"),
        "providers/groq.yaml:1:",
        "could not determine a constructor",
    ),
    (
        "not-a-mapping",
        write_file("providers/groq.yaml", "- slug: groq\n"),
        "providers/groq.yaml:1:",
        "is not of type 'object'",
    ),
    (
        "outside-layout",
        write_file("models/gpt-4o.yaml", "slug: gpt-4o\nname: GPT-4o\n"),
        "models/gpt-4o.yaml:",
        "outside the registry layout",
    ),
]


def _apply(case_id: str, mutate, root: Path) -> None:
    mutate(root)
    if case_id == "dangling-creator":
        (root / "providers" / "meta.yaml").unlink()
        (root / "families.yaml").write_text((root / "families.yaml").read_text().replace("  creator: meta\n", ""))


class TestBundledFixture:
    def test_small_registry_is_valid(self, registry_dir):
        report = validate_registry(registry_dir)
        assert report.ok, report.problems
        assert len(report.files) == 16


class TestBadRegistryCorpus:
    @pytest.mark.parametrize(("case_id", "mutate", "location", "fragment"), CORPUS, ids=[c[0] for c in CORPUS])
    def test_validation_names_file_line_and_problem(self, registry_dir, case_id, mutate, location, fragment):
        _apply(case_id, mutate, registry_dir)
        problems = [str(p) for p in validate_registry(registry_dir).problems]
        assert any(p.startswith(location) and fragment in p for p in problems), problems

    @pytest.mark.parametrize(("case_id", "mutate", "location", "fragment"), CORPUS, ids=[c[0] for c in CORPUS])
    def test_command_exits_1_and_prints_file_line(self, registry_dir, case_id, mutate, location, fragment, capsys):
        _apply(case_id, mutate, registry_dir)
        with pytest.raises(CommandError) as raised:
            call_command("validate_registry", path=registry_dir)
        assert raised.value.returncode == 1
        assert location in capsys.readouterr().err

    @pytest.mark.django_db
    @pytest.mark.parametrize(("case_id", "mutate", "location", "fragment"), CORPUS, ids=[c[0] for c in CORPUS])
    def test_load_leaves_database_exactly_as_it_was(
        self, registry_dir, catalogue_state, case_id, mutate, location, fragment
    ):
        call_command("load_registry", path=registry_dir, stdout=open("/dev/null", "w"))
        # A changed but broken registry: the valid part of the change must not be applied either.
        replace_text("mappings/openai/gpt-4o.yaml", "input: 2.5", "input: 2.75")(registry_dir)
        before = catalogue_state()
        _apply(case_id, mutate, registry_dir)
        with pytest.raises(CommandError):
            call_command("load_registry", path=registry_dir)
        assert catalogue_state() == before

    def test_every_problem_is_reported_not_just_the_first(self, registry_dir):
        for case_id in ("negative-price", "dangling-family", "empty-file", "duplicate-alias"):
            case = next(c for c in CORPUS if c[0] == case_id)
            _apply(case_id, case[1], registry_dir)
        problems = [str(p) for p in validate_registry(registry_dir).problems]
        for case_id in ("negative-price", "dangling-family", "empty-file", "duplicate-alias"):
            location, fragment = next((c[2], c[3]) for c in CORPUS if c[0] == case_id)
            assert any(p.startswith(location) and fragment in p for p in problems), (case_id, problems)

    def test_oversized_file_is_refused_before_parsing(self, registry_dir, settings):
        settings.REGISTRY_MAX_FILE_BYTES = 100
        (registry_dir / "providers" / "groq.yaml").write_text("slug: groq\nname: Groq\n# " + "x" * 200 + "\n")
        problems = [str(p) for p in validate_registry(registry_dir).problems]
        assert any(p.startswith("providers/groq.yaml:") and "over the 100-byte limit" in p for p in problems)

    def test_missing_directory_is_an_error(self, tmp_path):
        problems = [str(p) for p in validate_registry(tmp_path / "nope").problems]
        assert problems == [f"{tmp_path / 'nope'}: registry directory does not exist"]


class TestParallelValidation:
    def test_parallel_parse_reports_the_same_problems(self, registry_dir, settings):
        for case_id in ("negative-price", "dangling-family", "non-utf8", "duplicate-alias", "yaml-bomb"):
            case = next(c for c in CORPUS if c[0] == case_id)
            _apply(case_id, case[1], registry_dir)
        sequential = validate_registry(registry_dir).problems
        settings.REGISTRY_PARALLEL_THRESHOLD = 1
        parallel = validate_registry(registry_dir)
        assert parallel.problems == sequential
        assert len(parallel.problems) >= 5
        assert parallel.of_kind("model")  # documents came back from the worker processes
