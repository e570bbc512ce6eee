"""Build tests/fixtures/resolution/corpus.yaml: real model names with the bundled registry's answer for each.

Usage: .venv/bin/python bench/resolution_corpus.py [--realdata ../shared/realdata] [--review]

Names come from ../shared/realdata (LiteLLM chat keys, OpenRouter ids, Hugging Face repos, genai-prices ids,
deprecations.info names) and tests/fixtures/resolution/everyday.yaml. Labels come from SAFE evidence only (the name,
or the name without an unambiguous decoration, equals a slug, an alias or an offer's provider_model_id of exactly one
model); every other name takes the reviewed label in tests/fixtures/resolution/judged.yaml, whose `override: true`
entries stand even against a registry alias or offer id (which is then wrong; every disagreement is printed). A name
neither rule labels is listed with the script's proposal (identity tokens compared against every registry model) and
left out of the corpus until a person writes its label into judged.yaml: `--review` prints them. The resolver under
test is never asked (that would be circular). Without ../shared/realdata the corpus is left as it is.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from catalog.identity.tokens import identity  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "resolution"
REGISTRY = ROOT / "registry" / "data"
GENAI_SAMPLE = 300  # of ~1,470 genai-prices ids: a fixed, seeded sample keeps the corpus reviewable

# LiteLLM's `litellm_provider` → the registry providers whose offer ids its keys carry after the prefix.
LITELLM_PROVIDERS = {
    "bedrock": ["amazon-bedrock"],
    "bedrock_converse": ["amazon-bedrock"],
    "azure": ["azure", "azure-cognitive-services"],
    "azure_ai": ["azure", "azure-cognitive-services"],
    "openrouter": ["openrouter"],
    "vercel_ai_gateway": ["vercel"],
    "openai": ["openai"],
    "novita": ["novita-ai"],
    "deepinfra": ["deepinfra"],
    "mistral": ["mistral"],
    "codestral": ["mistral"],
    "gemini": ["google"],
    "xai": ["xai"],
    "together_ai": ["togetherai"],
    "snowflake": ["snowflake-cortex"],
    "dashscope": ["alibaba"],
    "cloudflare": ["cloudflare-workers-ai"],
    "github_copilot": ["github-copilot"],
    "nebius": ["nebius"],
    "databricks": ["databricks"],
    "anthropic": ["anthropic"],
    "moonshot": ["moonshotai"],
    "perplexity": ["perplexity"],
    "ovhcloud": ["ovhcloud"],
    "scaleway": ["scaleway"],
    "zai": ["zai"],
    "deepseek": ["deepseek"],
    "baseten": ["baseten"],
    "groq": ["groq"],
    "cerebras": ["cerebras"],
    "cohere_chat": ["cohere"],
    "minimax": ["minimax"],
    "morph": ["morph"],
    "inception": ["inception"],
    "sarvam": ["sarvam"],
    "wandb": ["wandb"],
    "fireworks_ai": ["fireworks-ai"],
    "friendliai": ["friendli"],
    "gmi": ["gmicloud"],
}
_VERTEX = ["google-vertex", "google-vertex-anthropic"]
_BEDROCK_REGION = re.compile(r"^(?:us|eu|apac|global|us-gov|ca|jp|au)\.")
_BEDROCK_SUFFIX = re.compile(r"(?:-v\d+:\d+|:\d+)$")


class Registry:
    """Every spelling the bundled registry states for a model: slug, alias, offer id (per provider)."""

    def __init__(self, root: Path):
        self.models: dict[str, dict] = {}
        self.exact: dict[str, set[str]] = defaultdict(set)
        self.alias: dict[str, set[str]] = defaultdict(set)
        self.offer: dict[str, set[str]] = defaultdict(set)
        self.offers_at: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for path in sorted((root / "models").rglob("*.yaml")):
            data = yaml.safe_load(path.read_text())
            slug = data["slug"]
            self.models[slug] = data
            self.exact[slug.lower()].add(slug)
            for alias in data.get("aliases") or []:
                text = alias["alias"] if isinstance(alias, dict) else alias
                self.alias[str(text).lower()].add(slug)
        for path in sorted((root / "mappings").rglob("*.yaml")):
            data = yaml.safe_load(path.read_text())
            provider = path.parent.name
            for offer in data.get("offers") or []:
                pid = str(offer.get("provider_model_id") or "").lower()
                if pid:
                    self.offer[pid].add(data["model"])
                    self.offers_at[provider][pid].add(data["model"])
        self.bedrock_bare: dict[str, set[str]] = defaultdict(set)
        for pid, slugs in self.offers_at["amazon-bedrock"].items():
            self.bedrock_bare[_bedrock_bare(pid)] |= slugs
        self.keys: dict[tuple, set[str]] = defaultdict(set)
        self.loose: dict[tuple, set[str]] = defaultdict(set)
        for spelling, slugs in [*self.exact.items(), *self.alias.items(), *self.offer.items()]:
            for slug in slugs:
                self._index(spelling, slug)
        for slug, data in self.models.items():
            self._index(data["name"], slug)

    def _index(self, spelling: str, slug: str) -> None:
        ident = identity(spelling)
        self.keys[ident.key].add(slug)
        self.loose[ident.without(weak=True).key].add(slug)

    def safe(self, name: str, litellm_provider: str | None) -> tuple[str, str] | None:
        """(slug, how) when a spelling of exactly one model equals `name` or `name` without a sure decoration."""
        lowered = name.strip().lower()
        for how, index in (("exact", self.exact), ("alias", self.alias), ("offer", self.offer)):
            if len(index.get(lowered, ())) == 1:
                return next(iter(index[lowered])), how
        providers = list(LITELLM_PROVIDERS.get(litellm_provider or "", []))
        if litellm_provider and litellm_provider.startswith("vertex_ai"):
            providers += _VERTEX
        parts = lowered.split("/")
        for cut in range(1, len(parts)):
            rest = "/".join(parts[cut:])
            found = set().union(*(self.offers_at[p].get(rest, set()) for p in providers)) if providers else set()
            if len(found) == 1:
                return next(iter(found)), "offer"
        tail = parts[-1]
        if "amazon-bedrock" in providers or _BEDROCK_REGION.match(tail) or tail.endswith(":0"):
            found = self.bedrock_bare.get(_bedrock_bare(tail), set())
            if len(found) == 1 and "." in tail:
                return next(iter(found)), "offer"
        return None

    def propose(self, name: str) -> tuple[set[str], set[str]]:
        """(models whose identity key equals the name's, models equal once weak variants are dropped)."""
        ident = identity(name)
        return self.keys.get(ident.key, set()), self.loose.get(ident.without(weak=True).key, set())


def _bedrock_bare(pid: str) -> str:
    return _BEDROCK_SUFFIX.sub("", _BEDROCK_REGION.sub("", pid.lower()))


def gather(realdata: Path) -> list[tuple[str, str, str | None]]:
    """(name, source, litellm provider) of every corpus name, in a stable order, each name once."""
    names: list[tuple[str, str, str | None]] = []
    litellm = json.loads((realdata / "litellm" / "model_prices_and_context_window_2026-07-24.json").read_text())
    for key, entry in litellm.items():
        if isinstance(entry, dict) and entry.get("mode") == "chat":
            names.append((key, "litellm", entry.get("litellm_provider")))
    openrouter = json.loads((realdata / "openrouter" / "models_2026-08-19_via-unified-llm-pricing.json").read_text())
    names += [(model["id"], "openrouter", "openrouter") for model in openrouter["data"]]
    hf = realdata / "models.dev"
    for path in sorted((hf / "providers" / "huggingface" / "models").rglob("*.toml")):
        names.append((str(path.relative_to(hf / "providers" / "huggingface" / "models"))[:-5], "huggingface", None))
    for path in sorted((hf / "models").rglob("*.toml")):
        for repo in re.findall(r'url\s*=\s*"https://huggingface\.co/([^"?#]+?)/?"', path.read_text()):
            names.append((repo, "huggingface", None))
    genai = []
    for path in sorted((realdata / "genai-prices" / "providers").glob("*.yml")):
        genai += [str(model["id"]) for model in (yaml.safe_load(path.read_text()).get("models") or [])]
    genai = sorted(set(genai))
    names += [(name, "genai-prices", None) for name in random.Random(15).sample(genai, min(GENAI_SAMPLE, len(genai)))]
    deprecations = json.loads((realdata / "deprecations.info" / "v1_deprecations_2025-11-23.json").read_text())
    for entry in deprecations:
        for field in ("model_id", "model_name"):
            value = str(entry.get(field) or "").strip()
            if value and " " not in value.strip():  # ids; prose names ("Claude 2.1 and …") are not names
                names.append((value, "deprecations", None))
    everyday = yaml.safe_load((FIXTURES / "everyday.yaml").read_text())
    names += [(entry["name"], "everyday", None) for entry in everyday]
    seen: set[str] = set()
    unique = []
    for name, source, provider in names:
        if name not in seen:
            seen.add(name)
            unique.append((name, source, provider))
    return unique


def build(realdata: Path, review: bool) -> int:
    registry = Registry(REGISTRY)
    reviewed = yaml.safe_load((FIXTURES / "judged.yaml").read_text())
    judged = {entry["name"]: entry["expected"] for entry in reviewed}
    overrides = {entry["name"] for entry in reviewed if entry.get("override")}
    everyday = {entry["name"]: entry["expected"] for entry in yaml.safe_load((FIXTURES / "everyday.yaml").read_text())}
    corpus, unlabelled, disputed = [], [], []
    for name, source, provider in gather(realdata):
        safe = registry.safe(name, provider)
        if safe and name in judged and judged[name] != safe[0]:
            disputed.append(f"{name}: reviewed {judged[name]}, registry {safe[1]} {safe[0]}")
        if name in overrides:
            expected, how = judged[name], "judged"
        elif safe:
            expected, how = safe
        elif name in everyday:
            expected, how = everyday[name], "judged"
        elif name in judged:
            expected, how = judged[name], "judged"
        else:
            unlabelled.append((name, source, *registry.propose(name)))
            continue
        if expected is not None and expected not in registry.models:
            raise SystemExit(f"{name}: expected {expected!r} is not a bundled model")
        corpus.append({"name": name, "expected": expected, "source": source, "how": how})
    if review:
        for name, source, strict, loose in unlabelled:
            print(f"- name: {json.dumps(name)}\n  expected: {_guess(strict, loose)}  # {source} {sorted(loose)}")
    header = "# Generated by bench/resolution_corpus.py from ../shared/realdata; see README.md. Do not edit by hand.\n"
    text = yaml.safe_dump(corpus, sort_keys=False, allow_unicode=True, width=200)
    (FIXTURES / "corpus.yaml").write_text(header + text)
    counts: dict[str, int] = defaultdict(int)
    for entry in corpus:
        counts[f"{entry['source']}/{entry['how']}"] += 1
    print(f"{len(corpus)} names written ({len(unlabelled)} left out, unlabelled):", dict(sorted(counts.items())))
    for line in disputed:  # a registry alias or offer now says otherwise than the review: one of them is wrong
        print(f"disputed ({'review kept' if line.split(':')[0] in overrides else 'registry kept'}): {line}")
    return 0


def _guess(strict: set[str], loose: set[str]) -> str:
    if len(strict) == 1:
        return next(iter(strict))
    if len(loose) == 1:
        return next(iter(loose)) + "  # LOOSE"
    return "null"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    parser.add_argument("--review", action="store_true", help="print the names without a label, with a proposal")
    args = parser.parse_args()
    if not args.realdata.is_dir():
        print(f"{args.realdata}: not found; the corpus is left as it is")
        return 0
    return build(args.realdata, args.review)


if __name__ == "__main__":
    sys.exit(main())
