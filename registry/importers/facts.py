"""Registry document fields read from one models.dev TOML record (model, provider or offer) and the labs table."""

from __future__ import annotations

import datetime
import re
from collections import Counter

from modelgraph.secrets import key_reference_error
from registry.importers.normalise import parse_parameters, quantization_of
from registry.importers.offer_prices import offer_billing, offer_pricing, offer_tiers

MODALITIES = ("text", "image", "audio", "video", "pdf")
CAPABILITIES = (
    "tools",
    "reasoning",
    "vision",
    "structured_output",
    "attachments",
    "temperature",
    "embeddings",
    "audio",
)
_FLAGS = {
    "tool_call": "tools",
    "reasoning": "reasoning",
    "structured_output": "structured_output",
    "attachment": "attachments",
    "temperature": "temperature",
}
STATUSES = {
    "active": "active",
    "preview": "preview",
    "beta": "preview",
    "alpha": "preview",
    "deprecated": "deprecated",
    "retired": "retired",
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_URL = re.compile(r"^https?://\S+$")
_ENV = re.compile(r"^[A-Z][A-Z0-9_]*$")
_CUTOFF = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")
_NAME_STAMP = re.compile(r"\s*\((?:latest|\d{4}-\d{2}-\d{2})\)\s*$", re.IGNORECASE)

# Labs that have no provider.toml of their own, or whose organisation name on Hugging Face is not how they are known.
LAB_NAMES = {
    "ai21": "AI21 Labs",
    "aion-labs": "Aion Labs",
    "allenai": "Allen Institute for AI",
    "amazon": "Amazon",
    "anthracite-org": "Anthracite",
    "arcee-ai": "Arcee AI",
    "baai": "BAAI",
    "baidu": "Baidu",
    "black-forest-labs": "Black Forest Labs",
    "bytedance": "ByteDance",
    "deepreinforce": "DeepReinforce",
    "essentialai": "Essential AI",
    "ibm": "IBM",
    "inclusionai": "inclusionAI",
    "liquid": "Liquid AI",
    "meituan": "Meituan",
    "meta": "Meta",
    "microsoft": "Microsoft",
    "nousresearch": "Nous Research",
    "primeintellect": "Prime Intellect",
    "rekaai": "Reka AI",
    "tencent": "Tencent",
    "writer": "Writer",
}
# The organisation part of an id (meta-llama/…, Qwen/…, bedrock's meta.…) -> the lab's provider slug.
ORG_LABS = {
    "ai21": "ai21",
    "ai21labs": "ai21",
    "alibaba": "alibaba",
    "amazon": "amazon",
    "anthropic": "anthropic",
    "baidu": "baidu",
    "bytedance": "bytedance",
    "bytedance-seed": "bytedance",
    "cohere": "cohere",
    "coherelabs": "cohere",
    "deepseek": "deepseek",
    "deepseek-ai": "deepseek",
    "facebook": "meta",
    "google": "google",
    "ibm": "ibm",
    "ibm-granite": "ibm",
    "inclusionai": "inclusionai",
    "liquid": "liquid",
    "liquidai": "liquid",
    "meta": "meta",
    "meta-llama": "meta",
    "microsoft": "microsoft",
    "minimax": "minimax",
    "minimaxai": "minimax",
    "mistral": "mistral",
    "mistralai": "mistral",
    "moonshot": "moonshotai",
    "moonshotai": "moonshotai",
    "nousresearch": "nousresearch",
    "nvidia": "nvidia",
    "openai": "openai",
    "perplexity": "perplexity",
    "qwen": "alibaba",
    "sarvamai": "sarvam",
    "stepfun": "stepfun",
    "stepfun-ai": "stepfun",
    "tencent": "tencent",
    "thudm": "zhipuai",
    "writer": "writer",
    "x-ai": "xai",
    "xai": "xai",
    "xiaomi": "xiaomi",
    "xiaomimimo": "xiaomi",
    "z-ai": "zhipuai",
    "zai": "zhipuai",
    "zai-org": "zhipuai",
}
# When no organisation is named, the model's own name says who made it.
NAME_LABS = (
    ("llama", "meta"),
    ("qwen", "alibaba"),
    ("qwq", "alibaba"),
    ("gemma", "google"),
    ("gemini", "google"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("ministral", "mistral"),
    ("magistral", "mistral"),
    ("devstral", "mistral"),
    ("codestral", "mistral"),
    ("pixtral", "mistral"),
    ("voxtral", "mistral"),
    ("phi-", "microsoft"),
    ("deepseek", "deepseek"),
    ("glm", "zhipuai"),
    ("kimi", "moonshotai"),
    ("minimax", "minimax"),
    ("gpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("text-embedding", "openai"),
    ("whisper", "openai"),
    ("claude", "anthropic"),
    ("grok", "xai"),
    ("nemotron", "nvidia"),
    ("granite", "ibm"),
    ("hermes", "nousresearch"),
    ("command", "cohere"),
    ("cohere", "cohere"),
    ("nova-", "amazon"),
    ("ernie", "baidu"),
    ("hunyuan", "tencent"),
    ("sonar", "perplexity"),
    ("mimo", "xiaomi"),
    ("step-", "stepfun"),
    ("jamba", "ai21"),
    ("lfm", "liquid"),
)
_WORDS = {
    "ai": "AI",
    "allenai": "AllenAI",
    "bge": "BGE",
    "deepseek": "DeepSeek",
    "ernie": "ERNIE",
    "glm": "GLM",
    "glmv": "GLMV",
    "gpt": "GPT",
    "longcat": "LongCat",
    "mimo": "MiMo",
    "minimax": "MiniMax",
    "nousresearch": "Nous Research",
    "o": "o",
    "oss": "OSS",
    "r": "R",
    "rnj": "RNJ",
    "tts": "TTS",
    "vl": "VL",
}
# Official API base URLs of providers whose provider.toml names an SDK package instead of an endpoint.
API_BASES = {
    "anthropic": "https://api.anthropic.com/v1",
    "cerebras": "https://api.cerebras.ai/v1",
    "deepinfra": "https://api.deepinfra.com/v1/openai",
    "groq": "https://api.groq.com/openai/v1",
    "mistral": "https://api.mistral.ai/v1",
    "openai": "https://api.openai.com/v1",
    "perplexity": "https://api.perplexity.ai",
    "togetherai": "https://api.together.xyz/v1",
    "xai": "https://api.x.ai/v1",
}
_KEY_WORDS = ("KEY", "TOKEN", "PAT", "CREDENTIALS")


def valid_date(value) -> str | None:
    if isinstance(value, datetime.date):
        value = value.isoformat()
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return None
    return value


def valid_url(value) -> str | None:
    return value if isinstance(value, str) and _URL.match(value) and "${" not in value else None


def slug_or_none(value) -> str | None:
    if not isinstance(value, str):
        return None
    slug = re.sub(r"[^a-z0-9._-]+", "-", value.strip().lower()).strip("-")
    return slug if _SLUG.match(slug) else None


def clean_name(name: str) -> str:
    """GPT-4o (2024-08-06) and Claude Haiku 4.5 (latest) name the model they stand for."""
    return _NAME_STAMP.sub("", name).strip()


def family_name(slug: str) -> str:
    return " ".join(_WORDS.get(word, word[:1].upper() + word[1:]) for word in slug.split("-"))


def _tokens(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 2_000_000_000 else None


def hugging_face_ids(data: dict) -> list[str]:
    """Repository ids (org/name) of the Hugging Face weights a canonical model lists."""
    ids = []
    for entry in data.get("weights") or []:
        match = re.match(r"^https?://huggingface\.co/([\w.-]+/[\w.-]+)/?$", str(entry.get("url", "")))
        if match:
            ids.append(match[1])
    return ids


def model_facts(data: dict, slug: str) -> dict:
    """The model document fields (slug, creator, family and aliases excepted) one TOML record supports."""
    facts: dict = {}
    # "OpenAI: GPT-4o" names GPT-4o; "Qwen/Qwen2.5-7B-Instruct" is an id, not a name.
    name = data.get("name")
    if isinstance(name, str) and name.strip() and "/" not in name:
        facts["name"] = clean_name(name.split(": ", 1)[-1])[:200]
    family = slug_or_none(data.get("family"))
    if family and not family.endswith("-free"):
        facts["family"] = family
    if release := valid_date(data.get("release_date")):
        facts["release_date"] = release
    if status := STATUSES.get(str(data.get("status", "")).lower()):
        facts["status"] = status
    limit = data.get("limit") or {}
    if context := _tokens(limit.get("context")):
        facts["context_window"] = context
    if output := _tokens(limit.get("output")):
        facts["max_output"] = output
    modalities = data.get("modalities") or {}
    for side in ("input", "output"):
        values = set(modalities.get(side) or [])
        if values:
            facts[f"{side}_modalities"] = [m for m in MODALITIES if m in values]
    capabilities = {capability for flag, capability in _FLAGS.items() if data.get(flag) is True}
    inputs = set(modalities.get("input") or [])
    capabilities |= {"vision"} if "image" in inputs else set()
    capabilities |= {"audio"} if "audio" in inputs else set()
    capabilities |= {"embeddings"} if "embed" in slug else set()
    if capabilities:
        facts["capabilities"] = [c for c in CAPABILITIES if c in capabilities]
    if isinstance(data.get("open_weights"), bool):
        facts["open_weights"] = data["open_weights"]
    total, active = parse_parameters(slug)
    if total:
        facts["parameters_total"] = total
    if active:
        facts["parameters_active"] = active
    if isinstance(data.get("license"), str) and data["license"].strip():
        facts["license"] = data["license"].strip()[:200]
    knowledge = data.get("knowledge")
    if isinstance(knowledge, datetime.date):
        knowledge = knowledge.isoformat()
    if isinstance(knowledge, str) and _CUTOFF.match(knowledge):
        facts["knowledge_cutoff"] = knowledge
    urls = [valid_url(w.get("url")) for w in data.get("weights") or []]
    urls += [valid_url(link.get("url")) for link in data.get("links") or [] if isinstance(link, dict)]
    hugging_face = [u for u in urls if u and "huggingface.co/" in u]
    if url := next(iter(hugging_face + [u for u in urls if u]), None):
        facts["canonical_url"] = url
    return facts


def majority_facts(records: list[dict]) -> dict:
    """Each field's most common value over several providers' records; ties go to the smallest value."""
    facts: dict = {}
    for field in sorted({key for record in records for key in record}):
        votes = Counter(repr(record[field]) for record in records if field in record)
        values = {repr(record[field]): record[field] for record in records if field in record}
        best = sorted(votes.items(), key=lambda item: (-item[1], item[0]))[0][0]
        facts[field] = values[best]
    return facts


def offer_document(model_id: str, data: dict, provider: str | None = None) -> dict:
    """One offer of a mapping: the provider's id, its prices (every dimension models.dev states), long-context tiers,
    billing (when the provider is known) and its limits there."""
    offer: dict = {"provider_model_id": model_id}
    if status := STATUSES.get(str(data.get("status", "")).lower()):
        offer["status"] = status
    cost = data.get("cost") or {}
    if prices := offer_pricing(cost):
        offer["pricing"] = prices
    if tiers := offer_tiers(cost.get("tiers")):
        offer["tiers"] = tiers
    if provider and (billing := offer_billing(provider, model_id, offer.get("pricing", {}))) != "per_token":
        offer["billing"] = billing
    limit = data.get("limit") or {}
    if context := _tokens(limit.get("context")):
        offer["context_window"] = context
    if output := _tokens(limit.get("output")):
        offer["max_output"] = output
    if quantization := quantization_of(model_id):
        offer["quantization"] = quantization
    return offer


def provider_document(slug: str, data: dict, kind: str, openai_compatible_slugs: frozenset[str]) -> dict:
    """A provider document from its provider.toml (name, env[], npm, doc, api)."""
    document: dict = {"slug": slug, "name": str(data.get("name") or slug)[:200], "kind": kind}
    if docs := valid_url(data.get("doc")):
        document["docs_url"] = docs
    if api := valid_url(data.get("api")) or API_BASES.get(slug):
        document["api_base_url"] = api
    env = [name for name in data.get("env") or [] if isinstance(name, str) and _ENV.match(name)]
    # AZURE_RESOURCE_NAME comes before AZURE_API_KEY: prefer a variable that holds a secret.
    secret = [name for name in env if any(word in name for word in _KEY_WORDS)]
    if env:
        # A variable outside the key allow-list (AWS_ACCESS_KEY_ID, *_PAT) is referenced through the secrets file.
        name = (secret or env)[0]
        document["api_key_env"] = f"${{secrets:{name}}}" if key_reference_error(name) else name
    npm = data.get("npm") or ""
    document["openai_compatible"] = npm == "@ai-sdk/openai-compatible" or slug in openai_compatible_slugs
    return document
