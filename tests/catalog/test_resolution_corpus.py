"""Name resolution scored on the resolution corpus (issue 15): real names from LiteLLM, OpenRouter, Hugging Face,
genai-prices and deprecations.info plus everyday spellings, each with the bundled registry's answer (or none).
Precision (right answers ÷ answers) must be ≥ 99.5% and recall (right answers ÷ names the registry has) ≥ 97%.
The corpus and how it was labelled: tests/fixtures/resolution/README.md; bench/resolution.py prints the same figures
per source and on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.db import transaction

from catalog.models import Model
from catalog.resolution import model_resolve_name
from registry.loading import registry_load

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "resolution" / "corpus.yaml"
PRECISION_TARGET, RECALL_TARGET = 0.995, 0.97


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return yaml.safe_load(CORPUS.read_text())


@pytest.fixture(scope="module")
def answers(corpus, django_db_setup, django_db_blocker) -> dict[str, str | None]:
    """Every corpus name resolved once against the bundled registry (loaded for this module, rolled back after)."""
    with django_db_blocker.unblock(), transaction.atomic():
        registry_load(path=settings.REGISTRY_DIR)
        resolved = {}
        for entry in corpus:
            model = model_resolve_name(entry["name"]).model
            resolved[entry["name"]] = model.slug if model else None
        transaction.set_rollback(True)
    return resolved


def test_the_corpus_is_labelled_with_bundled_models(corpus, django_db_setup, django_db_blocker):
    names = [entry["name"] for entry in corpus]
    assert len(names) == len(set(names)) >= 1500
    assert {entry["source"] for entry in corpus} == {
        "litellm",
        "openrouter",
        "huggingface",
        "genai-prices",
        "deprecations",
        "everyday",
    }
    assert {entry["how"] for entry in corpus} <= {"exact", "alias", "offer", "judged"}
    with django_db_blocker.unblock(), transaction.atomic():
        registry_load(path=settings.REGISTRY_DIR)
        slugs = set(Model.objects.values_list("slug", flat=True))
        transaction.set_rollback(True)
    unknown = {entry["expected"] for entry in corpus if entry["expected"] is not None} - slugs
    assert not unknown, f"expected models the bundled registry does not have: {sorted(unknown)}"


def test_precision_and_recall_meet_the_targets(corpus, answers):
    answered = [entry for entry in corpus if answers[entry["name"]] is not None]
    right = [entry for entry in answered if answers[entry["name"]] == entry["expected"]]
    wrong = [entry for entry in answered if answers[entry["name"]] != entry["expected"]]
    have = [entry for entry in corpus if entry["expected"] is not None]
    missed = [entry for entry in have if answers[entry["name"]] is None]
    precision = len(right) / len(answered) if answered else 1.0
    recall = len(right) / len(have)
    lines = [f"precision {precision:.2%} ({len(right)}/{len(answered)})"]
    lines += [f"recall {recall:.2%} ({len(right)}/{len(have)})"]
    lines += [f"wrong: {e['name']} → {answers[e['name']]} (expected {e['expected'] or 'no match'})" for e in wrong]
    lines += [f"missed: {e['name']} (expected {e['expected']})" for e in missed]
    assert precision >= PRECISION_TARGET and recall >= RECALL_TARGET, "\n".join(lines)
