"""import_aliases: Hugging Face repositories and the feeds' provider ids become aliases, safely and idempotently."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from registry.importers.aliases import Sources, import_aliases

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aliases"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    target = tmp_path / "registry"
    shutil.copytree(FIXTURES / "registry", target)
    return target


def sources() -> Sources:
    return Sources(
        modelsdev=FIXTURES / "modelsdev",
        litellm=FIXTURES / "litellm.json",
        genai_prices=FIXTURES / "genai-prices",
        openrouter=[FIXTURES / "openrouter.json"],
    )


def aliases(registry: Path, creator: str, slug: str) -> list:
    document = yaml.safe_load((registry / "models" / creator / f"{slug}.yaml").read_text(encoding="utf-8"))
    return document.get("aliases", [])


def names(registry: Path, creator: str, slug: str) -> set[str]:
    return {a if isinstance(a, str) else a["alias"] for a in aliases(registry, creator, slug)}


def test_hugging_face_repository_added_for_open_weight_model(registry):
    result = import_aliases(registry, sources())

    # The model's own canonical_url repository (also models.dev's weights and OpenRouter's hugging_face_id).
    assert "mistralai/Mistral-Large-3-675B-Instruct-2512" in aliases(registry, "mistral", "mistral-large-2512")
    assert "mistralai/Mistral-Large-Instruct-2407" in aliases(registry, "mistral", "mistral-large-2407")
    assert result.coverage_before["carrying"] == 1  # llama-3-8b-instruct only
    assert result.coverage_after["carrying"] == 3


def test_provider_ids_become_provider_scoped_aliases(registry):
    import_aliases(registry, sources())

    assert {"alias": "llama3-70b-8192", "provider": "groq"} in aliases(registry, "meta", "llama-3-70b-instruct")
    # Bedrock's id leaves out "vision"; LiteLLM says it reads images, and Llama 3.2 11B is only the vision model.
    vision = aliases(registry, "meta", "llama-3.2-11b-vision-instruct")
    assert {"alias": "meta.llama3-2-11b-instruct-v1:0", "provider": "amazon-bedrock"} in vision
    # genai-prices prices it with gpt-4-turbo, whose group names two of our models; its date is GPT-4 Turbo Preview's.
    assert {"alias": "gpt-4-0125-preview", "provider": "openai"} in aliases(registry, "openai", "gpt-4-turbo-preview")
    assert "gpt-4-0125-preview" not in names(registry, "openai", "gpt-4-turbo")
    # A region path is the resolver's to parse; an older Mistral Large is no model we have.
    everything = set().union(*(names(registry, p.parent.name, p.stem) for p in registry.glob("models/*/*.yaml")))
    assert not any("us-east-1" in alias for alias in everything)
    assert not any("2402" in alias for alias in everything)


def test_ambiguous_id_is_refused_and_reported(registry, tmp_path):
    report = tmp_path / "ALIASES.md"
    out = StringIO()
    call_command(
        "import_aliases",
        registry=registry,
        modelsdev=FIXTURES / "modelsdev",
        litellm=FIXTURES / "litellm.json",
        genai_prices=FIXTURES / "genai-prices",
        openrouter=[FIXTURES / "openrouter.json"],
        report=report,
        stdout=out,
    )

    for slug in ("mistral-large-2407", "mistral-large-2512"):
        assert "mistral/mistral-large" not in names(registry, "mistral", slug)
    text = report.read_text(encoding="utf-8")
    refused = text.split("## Refused", 1)[1]
    assert "| `mistral/mistral-large` |  | vercel | litellm | ambiguous:exact |" in refused
    assert "mistral-large-2407, mistral-large-2512" in refused
    assert "aliases added:" in out.getvalue()


def test_existing_alias_is_never_moved(registry):
    # The fixture files Llama 3 70B's repository under Llama 3 8B: the importer reports it and leaves it there.
    result = import_aliases(registry, sources())

    assert "meta-llama/Meta-Llama-3-70B-Instruct" in names(registry, "meta", "llama-3-8b-instruct")
    assert "meta-llama/Meta-Llama-3-70B-Instruct" not in names(registry, "meta", "llama-3-70b-instruct")
    (refusal,) = [d for d in result.decisions if d.alias == "meta-llama/Meta-Llama-3-70B-Instruct"]
    assert refusal.state == "refused"
    assert refusal.note == "already an alias of llama-3-8b-instruct"


def test_second_run_adds_nothing(registry):
    first = import_aliases(registry, sources())
    files = {p: p.read_bytes() for p in registry.rglob("*.yaml")}
    second = import_aliases(registry, sources())

    assert sum(d.state == "added" for d in first.decisions) >= 6
    assert [d for d in second.decisions if d.state == "added"] == []
    assert second.files_written == 0
    assert {p: p.read_bytes() for p in registry.rglob("*.yaml")} == files


def test_written_files_keep_the_model_key_order(registry):
    import_aliases(registry, sources())

    text = (registry / "models" / "meta" / "llama-3-70b-instruct.yaml").read_text(encoding="utf-8")
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(("-", " "))]
    assert keys == ["slug", "name", "creator", "release_date", "open_weights", "aliases"]
