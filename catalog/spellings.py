"""How one model's name is spelled across providers, and how to undo it: `name_variants("openai/gpt-4o")`."""

from __future__ import annotations

import re

NORMALISED_CONFIDENCE = 0.9
# Dropping a version marker (`-0324`, bedrock `-v2`) may land on a sibling model: trusted a little less.
LOSSY_CONFIDENCE = 0.8

# OpenRouter-style variants and bedrock's `:0` revision: the same model under another routing label.
_VARIANT_SUFFIX = re.compile(r":(?:free|beta|extended|nitro|floor|online|thinking|exacto|latest|\d+)$")
# Bedrock ids and inference profiles: `us.anthropic.claude-…`, `meta.llama3-…`.
_BEDROCK_PREFIX = re.compile(
    r"^(?:(?:us|eu|apac|global|us-gov|ca|jp|au)\.)?"
    r"(?:anthropic|meta|amazon|cohere|ai21|mistral|deepseek|qwen|openai|writer|twelvelabs|stability|luma)\."
)
_DATE_SUFFIX = re.compile(r"[-@_](?:\d{4}-\d{2}-\d{2}|\d{8})$|-latest$")
_LOSSY_SUFFIX = re.compile(r"-\d{3,4}$")  # DeepSeek-style `-0324`, Gemini-style `-002`
# bedrock's mistral ids spell the model's own version like a revision: `mistral-7b-instruct-v0:2` is v0.2
_MISTRAL_V0 = re.compile(r"-v0:(\d+)$")
_BEDROCK_VERSION = re.compile(r"-v\d+$")  # bedrock `…-20241022-v2`
_SEPARATORS = re.compile(r"[\s_]+")
_HYPHENS = re.compile(r"-{2,}")
_DOTTED_VERSION = re.compile(r"(?<=\d)\.(?=\d)")
_DASHED_VERSION = re.compile(r"(?<=\d)-(?=\d(?!\d))")
_FIREWORKS_VERSION = re.compile(r"(?<=\d)p(?=\d)")  # fireworks `llama-v3p1-…` means 3.1
_FIREWORKS_V = re.compile(r"(?<=-)v(?=\d)")
_GLUED_VERSION = re.compile(r"(?<=[a-z])(?=\d)")  # gpt4o, llama3: the version glued to the name


def _tidy(value: str) -> str:
    return _HYPHENS.sub("-", _SEPARATORS.sub("-", value)).strip("-.")


def _strip_repeatedly(pattern: re.Pattern, value: str) -> str:
    while True:
        stripped = pattern.sub("", value)
        if stripped == value:
            return value
        value = stripped


def _spellings(value: str) -> list[str]:
    """`claude-3.5-sonnet` ⇄ `claude-3-5-sonnet`, fireworks `llama-v3p1-70b` → `llama-3.1-70b`."""
    spellings = [value, _DOTTED_VERSION.sub("-", value), _DASHED_VERSION.sub(".", value)]
    if _GLUED_VERSION.search(value):
        unglued = _GLUED_VERSION.sub("-", value)
        spellings += [unglued, _DOTTED_VERSION.sub("-", unglued)]
    if _FIREWORKS_VERSION.search(value):
        fireworks = _FIREWORKS_V.sub("", _FIREWORKS_VERSION.sub(".", value))
        spellings += [fireworks, _DOTTED_VERSION.sub("-", fireworks)]
    return spellings


def _stripped(name: str) -> tuple[str, str, str, str]:
    """(lower-cased, without prefixes and routing suffixes, also without date stamps, also without versions)."""
    lowered = _MISTRAL_V0.sub(r"-v0.\1", name.strip().lower())
    base = _strip_repeatedly(_VARIANT_SUFFIX, lowered).rsplit("/", 1)[-1]
    bedrock = _BEDROCK_PREFIX.match(base) is not None
    base = _strip_repeatedly(_VARIANT_SUFFIX, _BEDROCK_PREFIX.sub("", base))
    undated = _strip_repeatedly(_DATE_SUFFIX, base)
    lossy = _BEDROCK_VERSION.sub("", undated) if bedrock else undated
    lossy = _strip_repeatedly(_DATE_SUFFIX, lossy)
    if lossy == undated:
        lossy = _LOSSY_SUFFIX.sub("", undated)
    return lowered, base, undated, lossy


def name_variants(name: str) -> list[tuple[str, float]]:
    """Lower-case candidate slugs for `name`, most faithful first, each with the confidence a match deserves.

    Strips organisation prefixes (`openai/`, `accounts/fireworks/models/`, bedrock `us.anthropic.`), routing
    suffixes (`:free`, `:beta`), date stamps (`-2024-08-06`, `-20241022`, `@20240620`) and `-latest`, and treats
    spaces, underscores and dots between digits as hyphens.
    """
    lowered, base, undated, lossy = _stripped(name)
    variants: dict[str, float] = {}
    for value, confidence in (
        (lowered, NORMALISED_CONFIDENCE),
        (base, NORMALISED_CONFIDENCE),
        (undated, NORMALISED_CONFIDENCE),
        (lossy, LOSSY_CONFIDENCE),
    ):
        for spelling in _spellings(_tidy(value)):
            if spelling:
                variants.setdefault(spelling, confidence)
    return list(variants.items())


def normalise_name(name: str) -> str:
    """One loose key per name: lower-case, no organisation or bedrock prefix, no routing suffix, no date stamp, and
    spaces, underscores and dots between digits as hyphens (`openai/GPT-4o-2024-08-06` → `gpt-4o`,
    `Claude 3.5 Sonnet` → `claude-3-5-sonnet`). Empty when nothing is left."""
    return _DOTTED_VERSION.sub("-", _tidy(_stripped(name)[2]))


def fuzzy_key(name: str) -> str:
    """The string fuzzy matching compares: `name` without prefixes, routing suffixes and date stamps."""
    return _tidy(_stripped(name)[2]) or name.strip().lower()


# LiteLLM's route prefixes (`groq/…`, `bedrock/converse/…`) → the providers (our slugs) whose ids follow them.
LITELLM_PREFIXES: dict[str, tuple[str, ...]] = {
    "groq": ("groq",),
    "bedrock": ("amazon-bedrock",),
    "bedrock/converse": ("amazon-bedrock",),
    "bedrock/invoke": ("amazon-bedrock",),
    "vertex_ai": ("google-vertex", "google-vertex-anthropic"),
    "vertex_ai_beta": ("google-vertex", "google-vertex-anthropic"),
    "azure": ("azure", "azure-cognitive-services"),
    "azure_ai": ("azure", "azure-cognitive-services"),
    "together_ai": ("togetherai",),
    "fireworks_ai": ("fireworks-ai",),
    "deepinfra": ("deepinfra",),
    "openrouter": ("openrouter",),
    "mistral": ("mistral",),
    "gemini": ("google",),
    "anthropic": ("anthropic",),
    "openai": ("openai",),
    "cohere": ("cohere",),
    "cohere_chat": ("cohere",),
    "perplexity": ("perplexity",),
    "xai": ("xai",),
    "cerebras": ("cerebras",),
    "sambanova": ("sambanova",),
    "nscale": ("nscale",),
    "nebius": ("nebius",),
    "novita": ("novita-ai",),
    "deepseek": ("deepseek",),
    "moonshot": ("moonshotai",),
    "dashscope": ("alibaba",),
    "watsonx": ("ibm",),
    "friendliai": ("friendli",),
    "baseten": ("baseten",),
    "databricks": ("databricks",),
    "cloudflare": ("cloudflare-workers-ai",),
    "huggingface": ("huggingface",),
    "nvidia_nim": ("nvidia",),
    "github": ("github-models",),
    "vercel_ai_gateway": ("vercel",),
    "snowflake": ("snowflake-cortex",),
    "ovhcloud": ("ovhcloud",),
    "scaleway": ("scaleway",),
    "meta_llama": ("llama",),
    "zai": ("zai",),
    "minimax": ("minimax",),
    "wandb": ("wandb",),
    "lambda_ai": ("lambda",),
    "hyperbolic": ("hyperbolic",),
    "featherless_ai": ("featherless",),
    "v0": ("v0",),
}
_FIREWORKS_PATH = re.compile(r"^accounts/([^/]+)/models/([^/]+)$")
_REGION = re.compile(r"^(?:us|eu|apac|global|us-gov|ca|jp|au)\.")
_VENDOR_DOT = re.compile(r"^[a-z][a-z0-9-]*\.(?=[a-z])")  # bedrock `meta.`, `anthropic.`
_REVISION = re.compile(r"(?:-v\d+(?::\d+)?|:\d+)$")  # bedrock `-v1:0`, `:0`
# Groq's legacy ids end in their context length (`llama3-70b-8192`, `mixtral-8x7b-32768`).
_CONTEXT_LENGTH = re.compile(r"-(?:2048|4096|8192|16384|32768|65536|131072)$")


def platform_forms(name: str) -> tuple[tuple[str, ...], list[str]]:
    """(the providers a platform prefix names, the model ids it may mean, most faithful first), lower-cased.

    `groq/llama3-70b-8192` → ((groq,), [llama3-70b-8192, llama3-70b]); `bedrock/us.meta.llama3-2-3b-instruct-v1:0`
    → ((amazon-bedrock,), [us.meta.llama3-2-3b-instruct-v1:0, meta.llama3-2-3b-instruct-v1:0, llama3-2-3b-instruct]);
    `accounts/fireworks/models/x` → ((fireworks-ai,), [x]); `Org/Repo` → [org/repo, repo].
    """
    value = _MISTRAL_V0.sub(r"-v0.\1", name.strip().lower().lstrip("~"))
    providers: list[str] = []
    fireworks = _FIREWORKS_PATH.match(value)
    if fireworks:
        providers.append("fireworks-ai")
        value = fireworks.group(2)
    head, _, rest = value.partition("/")
    two = "/".join(value.split("/")[:2])
    if two in LITELLM_PREFIXES and value.count("/") >= 2:  # `bedrock/converse/…`
        providers += LITELLM_PREFIXES[two]
        value = value.split("/", 2)[2]
    elif rest and head in LITELLM_PREFIXES:  # `groq/…`; `openrouter/anthropic/…` keeps the provider's own id
        providers += LITELLM_PREFIXES[head]
        value = rest
    elif rest and "/" in rest:  # `llamagate/org/model`: a route we may list under its own name
        providers.append(head.replace("_", "-"))
        value = rest
    fireworks = _FIREWORKS_PATH.match(value)
    if fireworks:  # `fireworks_ai/accounts/fireworks/models/…`
        providers.append("fireworks-ai")
        value = fireworks.group(2)
    forms = [value]
    model = value.rsplit("/", 1)[-1]
    forms.append(model)
    bare = model
    vendor = _VENDOR_DOT.match(_REGION.sub("", model))
    if vendor:  # bedrock `meta.llama3-…-v1:0`; `deepseek.v3.2` keeps its family word
        rest = _REVISION.sub("", _VENDOR_DOT.sub("", _REGION.sub("", model), count=1))
        bare = f"{vendor.group(0)[:-1]}-{rest}" if re.match(r"v\d", rest) else rest
    forms.append(bare)
    vertex = bare.replace("@", "-")
    forms.append(vertex)
    forms.append(_CONTEXT_LENGTH.sub("", vertex))
    return tuple(dict.fromkeys(providers)), [form for form in dict.fromkeys(forms) if form]
