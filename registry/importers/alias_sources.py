"""The rows of the price feeds and listing APIs that name models: LiteLLM, genai-prices, models.dev, OpenRouter.

Each row is one id a provider uses, with the ids the source itself says name the same model (its hints) and, for
OpenRouter, the Hugging Face repository of the weights.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from ingestion.prices.feeds import genai_prices as genai_feed
from ingestion.prices.feeds import litellm as litellm_feed
from registry.importers.facts import hugging_face_ids

# LiteLLM's litellm_provider -> our provider slug: the price feed's map, plus the deployments whose ids only name
# models here (Azure AI's and Vertex's partner models); others are not read.
LITELLM_PROVIDERS = {name: slug for name, (slug, _) in litellm_feed.PROVIDERS.items()} | {
    "azure_ai": "azure",
    "vertex_ai-llama_models": "google-vertex",
    "vertex_ai-mistral_models": "google-vertex",
}
# genai-prices provider file stem -> our provider slug (the price feed's map, by file stem: `x_ai.yml` is `x-ai`);
# huggingface_<router> files are Hugging Face's router.
GENAI_PROVIDERS = {name.replace("-", "_"): slug for name, slug in genai_feed.PROVIDERS.items()}
# Path segments after LiteLLM's provider prefix that name a deployment, not a model (`bedrock/us-east-1/...`).
_DEPLOYMENT_SEGMENT = re.compile(r"^(?:[a-z]{2}(?:-gov)?-[a-z]+-\d|converse|invoke|eu|us|global|\d+-month-commitment)")
_PRICE_SEGMENT = re.compile(r"^(?:\d+-x-\d+|low|medium|high|hd|standard|max-x-max)$")
_HF_URL = re.compile(r"^https?://huggingface\.co/([\w.-]+/[\w.-]+)/?$")


@dataclass(frozen=True)
class FeedRow:
    """One id `provider` uses, as `source` names it; `hints` are ids the source says name the same model."""

    source: str
    provider: str
    id: str
    hints: tuple[str, ...] = ()
    vision: bool = False  # the source says the id reads images


@dataclass(frozen=True)
class WeightsClaim:
    """`source` says `repository` holds the weights of the model `names` name (exactly)."""

    source: str
    repository: str
    names: tuple[str, ...]


def hf_repository(url: str | None) -> str | None:
    match = _HF_URL.match(str(url or ""))
    return match[1] if match else None


def litellm_rows(path: Path) -> Iterator[FeedRow]:
    """Keys of model_prices_and_context_window.json with their provider prefix (`groq/`) removed."""
    body = json.loads(Path(path).read_text(encoding="utf-8"))
    for key, entry in body.items():
        if not isinstance(entry, dict) or entry.get("litellm_provider") not in LITELLM_PROVIDERS:
            continue
        litellm_provider = entry["litellm_provider"]
        head = litellm_provider.split("-")[0].split("_converse")[0]
        model_id = key
        for prefix in (f"{litellm_provider}/", f"{head}/"):
            if model_id.startswith(prefix):
                model_id = model_id[len(prefix) :]
                break
        if head in ("bedrock", "azure", "vertex_ai") and "/" in model_id:
            if _DEPLOYMENT_SEGMENT.match(model_id.split("/")[0]):
                continue  # a region or deployment path: the resolver parses these
        if any(_PRICE_SEGMENT.match(segment) for segment in model_id.split("/")[:-1]):
            continue  # `high/1024-x-1024/gpt-image-1`: a price line, not an id
        yield FeedRow(
            "litellm", LITELLM_PROVIDERS[litellm_provider], model_id, (), entry.get("supports_vision") is True
        )


def _equals(match: object) -> list[str]:
    """The ids a genai-prices match rule names exactly (equals, or an `or` of rules with equals)."""
    if not isinstance(match, dict):
        return []
    if "equals" in match:
        return [str(match["equals"])]
    return [value for rule in match.get("or", []) for value in _equals(rule)]


def genai_rows(root: Path) -> Iterator[FeedRow]:
    """genai-prices providers/*.yml: each model's id and the ids its match rule names, hinted at one another."""
    for path in sorted(Path(root).glob("*.yml")):
        stem = path.stem
        provider = "huggingface" if stem.startswith("huggingface_") else GENAI_PROVIDERS.get(stem)
        if not provider:
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or []:
            ids = list(dict.fromkeys([str(model["id"]), *_equals(model.get("match"))]))
            for model_id in ids:
                if model_id.startswith("regional."):
                    continue  # genai-prices' stand-in for Bedrock's region prefixes, no provider's id
                yield FeedRow("genai-prices", provider, model_id, tuple(i for i in ids if i != model_id))


def modelsdev_rows(root: Path) -> Iterator[FeedRow]:
    """providers/<p>/models/**.toml: the path is the id; base_model ("lab/id") names the canonical model."""
    for provider_toml in sorted((Path(root) / "providers").glob("*/provider.toml")):
        models_dir = provider_toml.parent / "models"
        for path in sorted(models_dir.rglob("*.toml")):
            with path.open("rb") as handle:
                data = tomllib.load(handle)
            base = data.get("base_model")
            hints = (str(base), str(base).split("/", 1)[-1]) if base else ()
            model_id = path.relative_to(models_dir).with_suffix("").as_posix()
            vision = "image" in (data.get("modalities") or {}).get("input", [])
            yield FeedRow("models.dev", provider_toml.parent.name, model_id, hints, vision)


def modelsdev_weights(root: Path, refs: dict[str, str]) -> Iterator[WeightsClaim]:
    """models/<lab>/<id>.toml [[weights]]: the repository of the canonical model `refs` maps "lab/id" to."""
    for path in sorted((Path(root) / "models").glob("*/*.toml")):
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        ref = f"{path.parent.name}/{path.stem}"
        for repository in hugging_face_ids(data):
            yield WeightsClaim("models.dev weights", repository, tuple(n for n in (refs.get(ref), ref) if n))


def openrouter_entries(path: Path) -> list[dict]:
    body = json.loads(Path(path).read_text(encoding="utf-8"))
    raws = body.get("data", []) if isinstance(body, dict) else body
    return [raw for raw in raws if isinstance(raw, dict) and isinstance(raw.get("id"), str)]


def openrouter_rows(path: Path) -> Iterator[FeedRow]:
    """OpenRouter's ids and permanent slugs (canonical_slug), hinted at one another."""
    for raw in openrouter_entries(path):
        ids = [raw["id"], *([raw["canonical_slug"]] if isinstance(raw.get("canonical_slug"), str) else [])]
        vision = "image" in ((raw.get("architecture") or {}).get("input_modalities") or [])
        for model_id in dict.fromkeys(ids):
            yield FeedRow("openrouter", "openrouter", model_id, tuple(i for i in ids if i != model_id), vision)


def openrouter_weights(path: Path) -> Iterator[WeightsClaim]:
    for raw in openrouter_entries(path):
        repository = raw.get("hugging_face_id")
        if isinstance(repository, str) and re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
            names = (raw["id"], *([raw["canonical_slug"]] if isinstance(raw.get("canonical_slug"), str) else []))
            yield WeightsClaim("openrouter hugging_face_id", repository, names)
