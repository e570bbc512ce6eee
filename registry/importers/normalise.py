"""Model-id normalisation: date stamps, provider prefixes, the loose keys that match ids, parameter counts."""

from __future__ import annotations

import re
from decimal import Decimal

_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12]\d|3[01])"
# -2024-08-06, -20241022, @20250514, -251201 (YYMMDD, Doubao), -03-2025 (Cohere), -05-06 (Gemini previews), -0125
# (MMDD). Mistral's -2411 style suffixes are YYMM version numbers (Large 2.1 vs Large 3), never a valid MMDD, so
# they are kept.
_DATE_SUFFIX = re.compile(
    rf"[-@_](?:20\d\d-{_MONTH}-{_DAY}|20\d\d{_MONTH}{_DAY}|2\d{_MONTH}{_DAY}|{_MONTH}-20\d\d|{_MONTH}-{_DAY}"
    rf"|{_MONTH}{_DAY})$"
)
_DATE_INFIX = re.compile(rf"-(?:20\d\d)?{_MONTH}{_DAY}(?=-[a-z])", re.IGNORECASE)  # grok-4.20-0309-reasoning
_LATEST = re.compile(r"-latest$", re.IGNORECASE)

_BEDROCK = re.compile(r"^(?:(?:us|eu|global|apac|au|jp|ca|us-gov)\.)?(?P<vendor>[a-z0-9-]+)\.(?P<rest>[a-z0-9].*)$")
BEDROCK_VENDORS = frozenset(
    {
        "ai21",
        "amazon",
        "anthropic",
        "cohere",
        "deepseek",
        "google",
        "meta",
        "minimax",
        "mistral",
        "moonshot",
        "moonshotai",
        "nvidia",
        "openai",
        "qwen",
        "writer",
        "xai",
        "zai",
    }
)
_BEDROCK_VERSION = re.compile(r"(?:-v\d+(?::\d+)?|-\d+:\d+|:\d+)$")
_VARIANT_TAG = re.compile(r":[a-z][a-z0-9-]*$", re.IGNORECASE)  # OpenRouter-style :free, :thinking, :batch
_SIZE_TAG = re.compile(r":(?=\d)")  # Ollama's gpt-oss:120b is gpt-oss-120b
_AT_TAG = re.compile(r"@[a-z][\w.-]*$", re.IGNORECASE)  # Vertex claude-opus-4-6@default
_MAAS = re.compile(r"-maas$", re.IGNORECASE)  # Vertex "model as a service"
# Vendor words some providers put in front of the model's own name (open-mixtral-8x7b, cohere-command-a).
_VENDOR_PREFIX = re.compile(
    r"^(?:open|labs|alibaba|anthropic|cohere|databricks|duo-chat|mistralai|nvidia|openai|zai|cerebras|groq|microsoft)"
    r"-+(?=[a-z])|^meta-(?=llama)|^google-(?=gemma|gemini)",
    re.IGNORECASE,
)
# Names some catalogues spell another way, tried after the id itself: claude-4.5-haiku (OpenRouter's canonical
# slugs) is Anthropic's claude-haiku-4-5 and Poe's claude-sonnet-3.7 is claude-3-7-sonnet; GitLab's bare
# sonnet-4-5 is Claude's; OpenRouter's deepseek-chat-v3.1 is DeepSeek's V3.1; gemini-3.0-pro is gemini-3-pro;
# o3-mini-high is o3-mini at a reasoning effort; OpenRouter's amazon/nova-pro-v1 is Bedrock's amazon.nova-pro-v1:0;
# grok-3-beta and gemini-2.0-flash-001 are releases of grok-3 and gemini-2.0-flash.
_REORDERINGS = (
    (re.compile(r"^claude-(\d+(?:[.-]\d+)?)-(opus|sonnet|haiku)\b", re.IGNORECASE), r"claude-\2-\1"),
    (re.compile(r"^claude-(opus|sonnet|haiku)-(\d+(?:[.-]\d+)?)$", re.IGNORECASE), r"claude-\2-\1"),
    (re.compile(r"^(?=(?:opus|sonnet|haiku)-\d)", re.IGNORECASE), "claude-"),
    (re.compile(r"^deepseek-chat-v(?=\d)", re.IGNORECASE), "deepseek-v"),
    (re.compile(r"(?<=\d)\.0(?=-|$)"), ""),
    (re.compile(r"-(?:high|medium|low|minimal)$", re.IGNORECASE), ""),
    (re.compile(r"-v1$", re.IGNORECASE), ""),
    (re.compile(r"-beta$", re.IGNORECASE), ""),  # x-ai/grok-3-beta
    (re.compile(r"-00\d$"), ""),  # Google's stable versions: gemini-2.0-flash-001
)

# Suffixes that only say how an open model is served; dropped for the fallback match, never for the strict one.
# cs, fw and el are Poe's bots hosted by Cerebras, Fireworks and Empirio Labs; tee is a trusted execution enclave.
SERVING_SUFFIXES = frozenset(
    {
        "instruct",
        "it",
        "turbo",
        "tput",
        "versatile",
        "instant",
        "hf",
        "fast",
        "free",
        "tee",
        "dynamic",
        "fp8",
        "fp4",
        "fp16",
        "bf16",
        "int4",
        "int8",
        "awq",
        "gptq",
        "nvfp4",
        "mxfp4",
        "cs",
        "fw",
        "el",
    }
)
QUANTIZATIONS = ("nvfp4", "mxfp4", "fp8", "fp4", "fp16", "bf16", "int4", "int8", "awq", "gptq")


def strip_stamps(model_id: str) -> str:
    """Drop date stamps and a trailing -latest: claude-3-5-sonnet-20241022 -> claude-3-5-sonnet."""
    stripped = _DATE_SUFFIX.sub("", model_id)
    stripped = _DATE_INFIX.sub("", stripped)
    return _LATEST.sub("", stripped)


def loose_key(text: str) -> str:
    """A separator-insensitive key: glm-5p1, GLM-5.1 and glm_5_1 all become glm-5-1; llama3 becomes llama-3."""
    key = re.sub(r"(\d)p(\d)", r"\1.\2", text.lower())
    key = re.sub(r"[._\s]+", "-", key)
    key = re.sub(r"(^|-)v(?=\d)", r"\1", key)
    key = re.sub(r"([a-z])(\d)", r"\1-\2", key)
    return re.sub(r"-{2,}", "-", key).strip("-")


def _id_forms(model_id: str) -> list[str]:
    """The readable forms of a provider's id, best first: no path, region, vendor prefix, tags or stamps."""
    last = model_id.rsplit("/", 1)[-1]
    forms = [last]
    match = _BEDROCK.match(last.lower())
    if match and match["vendor"] in BEDROCK_VENDORS:
        rest = _BEDROCK_VERSION.sub("", match["rest"])
        # deepseek.r1-v1:0 calls the model just "r1": put the vendor back in front.
        forms = [f"{match['vendor']}-{rest}", rest] if re.match(r"[a-z]\d", rest) else [rest]
    cleaned = []
    for form in forms:
        form = strip_stamps(_MAAS.sub("", _VARIANT_TAG.sub("", _AT_TAG.sub("", _SIZE_TAG.sub("-", form)))))
        without_vendor = _VENDOR_PREFIX.sub("", form)
        cleaned.extend([without_vendor, form])
    cleaned += [
        pattern.sub(replacement, form)
        for form in list(cleaned)
        for pattern, replacement in _REORDERINGS
        if pattern.search(form)
    ]
    return list(dict.fromkeys(form for form in cleaned if form))


def strict_keys(model_id: str) -> list[str]:
    """Loose keys to try, most specific first, for an id as a provider spells it."""
    return list(dict.fromkeys(loose_key(form) for form in _id_forms(model_id)))


def fallback_keys(model_id: str) -> list[str]:
    """Loose keys without serving suffixes (-turbo, -fp8…), -instruct and expert counts (-16e), for open models."""
    keys = []
    for form in _id_forms(model_id):
        tokens = [t for t in re.split(r"[-_]", form.lower()) if not re.fullmatch(r"\d+e|instruct", t)]
        while len(tokens) > 1 and tokens[-1] in SERVING_SUFFIXES:
            tokens.pop()
        keys.append(loose_key("-".join(tokens)))
    return list(dict.fromkeys(keys))


def display_slug(model_id: str) -> str:
    """A registry slug from a provider's id: meta-llama/Meta-Llama-3.1-8B-Instruct -> llama-3.1-8b-instruct."""
    forms = _id_forms(model_id)
    slug = re.sub(r"(\d)[p_](\d)", r"\1.\2", (forms[0] if forms else model_id).lower())
    slug = re.sub(r"[^a-z0-9._-]+", "-", slug)
    return re.sub(r"-{2,}", "-", slug).strip("-._")


def quantization_of(model_id: str) -> str | None:
    """fp8 for Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8."""
    tokens = set(re.split(r"[-_/.:]", model_id.lower()))
    return next((q for q in QUANTIZATIONS if q in tokens), None)


_PARAMS = re.compile(r"^(a)?(\d+(?:\.\d+)?)([bm])$")


def parse_parameters(slug: str) -> tuple[int | None, int | None]:
    """(total, active) when the slug states them plainly: qwen3-235b-a22b -> (235e9, 22e9)."""
    # Llama 4's "17b" is the active count of a mixture of experts; -16e/-128e expert counts say the same.
    if slug.startswith("llama-4") or any(re.fullmatch(r"\d+e", t) for t in slug.split("-")):
        return None, None
    totals: dict[str, list[int]] = {"b": [], "m": []}
    actives: list[int] = []
    for token in re.split(r"[-_]", slug):
        match = _PARAMS.match(token)
        if not match:
            continue
        value = int(Decimal(match[2]) * (10**9 if match[3] == "b" else 10**6))
        if match[1]:
            actives.append(value)
        else:
            totals[match[3]].append(value)
    # "qwen2.5-7b-instruct-1m": a million-token context, not a size, when billions are stated too.
    candidates = totals["b"] or totals["m"]
    if len(candidates) != 1 or len(actives) > 1:
        return None, None
    total, active = candidates[0], (actives[0] if actives else None)
    if active is not None and active > total:
        return None, None
    return total, active
