"""What a model name says about identity: sizes, active parameters, versions, date stamps and variant words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Words that name a different model line when they differ (`gpt-4o` vs `gpt-4o-mini`, `qwen3-coder` vs `qwen3`).
STRONG_VARIANTS = frozenset(
    {
        "mini",
        "nano",
        "lite",
        "flash",
        "pro",
        "max",
        "plus",
        "ultra",
        "air",
        "coder",
        "code",
        "vl",
        "vision",
        "distill",
        "thinking",
        "reasoning",
        "small",
        "medium",
        "large",
        "tiny",
        "micro",
        "omni",
        "haiku",
        "sonnet",
        "opus",
        "embed",
        "embedding",
        "audio",
        "realtime",
        "search",
        "guard",
        "math",
    }
)
# Words that describe a release or a way of serving, not other weights (`-instruct`, `-preview`, `:free`, `-turbo`).
WEAK_VARIANTS = frozenset(
    {
        *("instruct", "chat", "it", "preview", "latest", "free", "fast", "turbo", "exp", "beta", "versatile"),
        *("instant", "high", "low", "minimal", "xhigh", "highspeed"),
    }
)
# Serving decorations that never name another model: quantisations, enclaves, hosting suffixes.
SERVING_WORDS = frozenset(
    {
        *("fp8", "fp16", "bf16", "fp4", "int4", "int8", "awq", "gptq", "gguf", "tee", "maas", "hf"),
        *("nvfp4", "mxfp4", "default", "online", "extended", "nitro", "floor", "exacto"),
    }
)
VARIANTS = STRONG_VARIANTS | WEAK_VARIANTS

_VENDOR_PREFIX = re.compile(
    r"^(?:(?:us|eu|apac|global|us-gov|ca|jp|au)\.)?(?:[a-z0-9-]+\.(?=[a-z]))?"
    r"(?:(?:databricks|open|labs|mistralai|openai|anthropic|cohere|nvidia|microsoft|cerebras|groq|zai)-(?=[a-z]))?"
)
_BEDROCK_REVISION = re.compile(r"(?:-v\d+:\d+|:\d+)$")
_AT_SUFFIX = re.compile(r"@[a-z][\w.-]*$")  # vertex `@default`; `@20240620` is a stamp and is kept
_ISO_DATE = re.compile(r"(?<!\d)(20\d\d)[-_.](0[1-9]|1[0-2])[-_.](0[1-9]|[12]\d|3[01])(?!\d)")
_MONTH_DAY = re.compile(r"(?<=-)(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?=[-@:]|$)")  # gemini previews: -05-20
_MONTH_YEAR = re.compile(r"(?<=-)(0[1-9]|1[0-2])-(20\d\d)(?=-|$)")  # cohere: -08-2024
_DASHED_VERSION = re.compile(
    r"(?<=[a-z-])(?:(\d{1,2})-(\d)|(\d)-(\d{2}))(?=[-@:]|$)"  # claude-3-5-sonnet → 3.5, grok-4-20 → 4.20; never 3-70b
)
_SPLIT_QUANT = re.compile(r"\b(fp|int|bf)-(?=\d)")  # `fp-16` is fp16
_UNDERSCORE_VERSION = re.compile(r"(?<=\d)_(?=\d)")  # nvidia Llama-3_3 → 3.3
_ROUTING_TAG = re.compile(r":[a-z][a-z-]*$")  # :free, :thinking, :extended — a way to call the model
_FIREWORKS_VERSION = re.compile(r"(?<=\d)p(?=\d)")  # llama-v3p1 → 3.1
_SPLIT = re.compile(r"[-_\s:/@]+")
_GLUED = re.compile(r"^([a-z]+)(\d+(?:\.\d+)*)$")  # qwen3.5, llama3, phi4, o3, r1, k2.5
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([bmt])$")  # never `k`: `32k` is a context length
_EXPERTS = re.compile(r"^\d+e$")  # llama-4-scout-17b-16e: the expert count
_MOE_SIZE = re.compile(r"^\d+x\d+(?:\.\d+)?b$")
_ACTIVE = re.compile(r"^a(\d+(?:\.\d+)?)b$")
_VERSION = re.compile(r"^v?(\d{1,2}(?:\.\d+)*)$")
_LETTERED_VERSION = re.compile(r"^\d{1,2}(?:\.\d+)?[a-jl-z]$")  # gpt-4o (never `32k`, a context length)
_STAMP = re.compile(r"^(?:\d{3,4}|\d{6}|\d{8})$")  # 2506, 0613, 001 (revision), 251201, 20250514
_SCALE = {"b": 1.0, "m": 0.001, "t": 1000.0}


def _number(value: str) -> str:
    return value.rstrip("0").rstrip(".") if "." in value else value


def size_label(billions: float) -> str:
    """70.0 → `70b`, 0.6 → `0.6b` (the spelling sizes are compared in)."""
    return f"{_number(f'{billions:.3f}')}b"


@dataclass(frozen=True)
class Identity:
    """The identity tokens of one name. `words` are the remaining name words (`claude`, `llama`, `r1`)."""

    words: frozenset[str]
    sizes: frozenset[str]
    active: frozenset[str]
    versions: frozenset[str]
    stamps: frozenset[str]
    variants: frozenset[str]
    serving: frozenset[str]

    @property
    def strong(self) -> frozenset[str]:
        return self.variants & STRONG_VARIANTS

    @property
    def key(self) -> tuple[frozenset[str], ...]:
        """Equal keys: the same name up to punctuation, case, order and serving decorations."""
        return (self.words, self.sizes, self.active, self.versions, self.stamps, self.variants)

    def without(self, *, active: bool = False, weak: bool = False, stamps: bool = False) -> Identity:
        return Identity(
            words=self.words,
            sizes=self.sizes,
            active=frozenset() if active else self.active,
            versions=self.versions,
            stamps=frozenset() if stamps else self.stamps,
            variants=self.strong if weak else self.variants,
            serving=frozenset(),
        )


def strip_prefixes(name: str) -> str:
    """The model's own name: no path (`@cf/deepseek-ai/`, `route/`), vendor (`databricks-`) or revision suffix."""
    value = name.strip().lower()
    value = value.rsplit("/", 1)[-1]
    value = value.split("~", 1)[-1]
    # Each pattern needs a character the name may not hold: the test is cheaper than running it.
    if ":" in value:
        value = _BEDROCK_REVISION.sub("", value)
    if "@" in value:
        value = _AT_SUFFIX.sub("", value)
    while ":" in value and _ROUTING_TAG.search(value):
        value = _ROUTING_TAG.sub("", value)
    return _VENDOR_PREFIX.sub("", value, count=1) or value


@lru_cache(maxsize=65536)
def identity(name: str) -> Identity:
    """Classify every token of `name`; `Mistral-Small-3.2-24B-Instruct-2506` → size 24b, version 3.2, stamp 2506."""
    value = strip_prefixes(name)
    if "20" in value:
        value = _ISO_DATE.sub(_joined_groups, value)
    if "-" in value:
        value = _SPLIT_QUANT.sub(_joined_groups, value)
        if "-20" in value:
            value = _MONTH_YEAR.sub(_year_first, value)
        value = _MONTH_DAY.sub(_joined_groups, value)
    if "p" in value:
        value = _FIREWORKS_VERSION.sub(".", value)
    if "_" in value:
        value = _UNDERSCORE_VERSION.sub(".", value)
    if "-" in value:
        value = _DASHED_VERSION.sub(_dotted_version, value)
    buckets: dict[str, set[str]] = {k: set() for k in ("words", "sizes", "active", "versions", "stamps", "variants")}
    serving: set[str] = set()
    for raw in _SPLIT.split(value):
        for kind, normal in _raw_token_kinds(raw):
            if kind == "serving":
                serving.add(normal)
            elif kind:
                buckets[kind].add(normal)
    return Identity(serving=frozenset(serving), **{k: frozenset(v) for k, v in buckets.items()})


# Replacements as functions: a template string (r"\1\2") is expanded in Python on every call, match or not.
def _joined_groups(match: re.Match) -> str:
    return "".join(match.groups())


def _year_first(match: re.Match) -> str:
    return match[2] + match[1]


def _dotted_version(match: re.Match) -> str:
    return f"{match[1]}.{match[2]}" if match[1] else f"{match[3]}.{match[4]}"


@lru_cache(maxsize=65536)
def _raw_token_kinds(raw: str) -> tuple[tuple[str, str], ...]:
    """(bucket, normal form) of each piece of one split token: names share most tokens, so each is classified once."""
    return tuple(classify(token) for token in _pieces(raw.strip(".")))


def _pieces(token: str) -> list[str]:
    if not token:
        return []
    if token in SERVING_WORDS or _VERSION.match(token) or _ACTIVE.match(token):
        return [token]
    glued = _GLUED.match(token)
    if glued:
        return [glued.group(1), glued.group(2)]
    if "." in token and not re.fullmatch(r"[\d.]+[a-z]?", token):  # dots between words are separators
        return [piece for piece in token.split(".") if piece]
    return [token]


def classify(token: str) -> tuple[str, str]:
    """(bucket, normal form) of one token; bucket "" drops it."""
    if token in SERVING_WORDS or _EXPERTS.match(token):
        return "serving", token
    if token in VARIANTS:
        return "variants", "code" if token == "coder" else token
    if _MOE_SIZE.match(token):
        return "sizes", token
    size = _SIZE.match(token)
    if size:
        return "sizes", size_label(float(size.group(1)) * _SCALE[size.group(2)])
    active = _ACTIVE.match(token)
    if active:
        return "active", f"a{_number(active.group(1))}b"
    if _STAMP.match(token):
        return "stamps", token
    version = _VERSION.match(token)
    if version:
        number = version.group(1)
        while number.endswith(".0"):
            number = number[:-2]
        return "versions", number
    if _LETTERED_VERSION.match(token):
        return "versions", token
    return "words", token


def sizes_close(left: str, right: str) -> bool:
    """`70b` and `70.6b` are one size; `8x22b` only equals itself."""
    if left == right:
        return True
    a, b = _billions(left), _billions(right)
    return a is not None and b is not None and abs(a - b) <= 0.1 * max(a, b)


def _billions(label: str) -> float | None:
    size = _SIZE.match(label)
    return float(size.group(1)) if size else None
