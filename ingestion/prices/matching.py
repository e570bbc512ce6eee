"""Price statements → our offers: the exact (provider, provider_model_id) first, then the catalogue's own resolution.

Order of trust, per statement of a known provider (the first that names one offer wins):
1. exact: the feed's id is one of our provider_model_ids at that provider;
2. feed-id: the provider's own id inside the feed's key (LiteLLM's `gemini/…` prefix removed) or an id the row's
   genai-prices match rule names (`equals`, `starts_with`);
3. bedrock: Amazon Bedrock ids without the cross-region inference-profile prefix (`us.`, `eu.`, `apac.`, `global.`,
   …) and with or without the `-v1:0` version suffix. A regional profile may cost more (+10% outside `global.`), so a
   regional row matches the base offer only when the feed states no price for the base id itself;
4. model: the id resolves (catalogue aliases, normalised names: `ingestion.matching.ModelIndex`) to one model that
   has exactly one offer at that provider.
Anything else (unknown provider, several offers, no offer, two feed rows for one offer at the same level) is listed
as unmatched for curators with the reason, never guessed. Rows of non-text modes (embeddings, images, speech …)
that match nothing are dropped rather than listed: they are rarely catalogue offers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from catalog.models import Mapping, Provider
from ingestion.matching import ModelIndex
from ingestion.models import IngestionRun, UnmatchedPrice
from ingestion.prices.feeds.litellm import litellm_offer_id
from ingestion.prices.statements import PriceStatement

BEDROCK = "amazon-bedrock"
BEDROCK_REGIONS = ("us-gov.", "us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.")
BEDROCK_VERSION = "-v1:0"
RANK = {"exact": 0, "feed-id": 1, "bedrock": 2, "model": 3}

Key = tuple[str, str, str]  # (source, provider_key, model_key): one feed row
# An unchanged unmatched row's last_seen is refreshed at most this often (unmatched_prices_record).
LAST_SEEN_RESOLUTION = dt.timedelta(days=1)


@dataclass(frozen=True)
class PriceMatch:
    statement: PriceStatement
    mapping: Mapping
    how: str  # exact | feed-id | bedrock | model


@dataclass(frozen=True)
class UnmatchedStatement:
    statement: PriceStatement
    reason: str
    kind: str = "offer"  # provider (not one of ours) | offer (none or several of ours) | duplicate (another row won)


@dataclass
class PriceMatches:
    matched: list[PriceMatch] = field(default_factory=list)
    unmatched: list[UnmatchedStatement] = field(default_factory=list)
    dropped: int = 0  # non-text rows that matched nothing

    @property
    def rate(self) -> float:
        """Matched feed rows / matched and unmatched feed rows (dated periods of one row count once)."""
        matched = {row_key(m.statement) for m in self.matched}
        unmatched = {row_key(u.statement) for u in self.unmatched}
        return len(matched) / len(matched | unmatched) if matched or unmatched else 0.0

    @property
    def rate_at_our_providers(self) -> float:
        """The match rate over rows of providers we list (rows of other providers cannot match by design)."""
        matched = {row_key(m.statement) for m in self.matched}
        unmatched = {row_key(u.statement) for u in self.unmatched if u.kind != "provider"}
        return len(matched) / len(matched | unmatched) if matched or unmatched else 0.0


def row_key(statement: PriceStatement) -> Key:
    return statement.source, statement.provider_key, statement.model_key


def bedrock_base(offer_id: str) -> str:
    """The id without its cross-region inference-profile prefix (`us.anthropic.…` → `anthropic.…`)."""
    for prefix in BEDROCK_REGIONS:
        if offer_id.startswith(prefix):
            return offer_id[len(prefix) :]
    return offer_id


def feed_ids(statement: PriceStatement) -> list[str]:
    """The offer ids a row names, beyond its own key: LiteLLM's key without prefix, genai-prices match strings."""
    ids = []
    if statement.source == "litellm":
        ids.append(litellm_offer_id(statement))
    for note in statement.notes:
        if note.startswith("match:"):
            ids.append(note.split(":", 2)[2])
    return [offer_id for offer_id in dict.fromkeys(ids) if offer_id and offer_id != statement.model_key]


@dataclass
class OfferIndex:
    """Our offers in memory by (provider, id) and by (provider, model), so a feed of thousands costs four queries."""

    providers: set[str]
    by_id: dict[tuple[str, str], Mapping]
    by_model: dict[tuple[str, int], list[Mapping]]
    models: ModelIndex

    @classmethod
    def build(cls) -> OfferIndex:
        by_id: dict[tuple[str, str], Mapping] = {}
        by_model: dict[tuple[str, int], list[Mapping]] = defaultdict(list)
        for mapping in Mapping.objects.select_related("provider", "model").order_by("pk"):
            by_id[(mapping.provider.slug, mapping.provider_model_id)] = mapping
            by_model[(mapping.provider.slug, mapping.model_id)].append(mapping)
        providers = set(Provider.objects.values_list("slug", flat=True))
        return cls(providers, by_id, dict(by_model), ModelIndex.build())

    def find(self, statement: PriceStatement, stated: set[tuple[str, str]]) -> tuple[Mapping | None, str]:
        """(the one offer the statement names, how) or (None, why not). `stated`: (provider, id) of every row."""
        provider = statement.provider
        if provider is None:
            return None, f"unknown provider {statement.provider_key!r}"
        if provider not in self.providers:
            return None, f"provider {provider!r} is not in the catalogue"
        if found := self.by_id.get((provider, statement.model_key)):
            return found, "exact"
        ids = feed_ids(statement)
        for offer_id in ids:
            if found := self.by_id.get((provider, offer_id)):
                return found, "feed-id"
        names = [statement.model_key, *ids]
        if provider == BEDROCK:
            found, why = self._bedrock(names, stated)
            if found or why:
                return found, why or "bedrock"
        if provider == BEDROCK:  # a regional profile row never prices the model when the feed prices its base id
            names = [
                name for name in names if bedrock_base(name) == name or (BEDROCK, bedrock_base(name)) not in stated
            ]
        return self._by_model(provider, names)

    def _bedrock(self, names: list[str], stated: set[tuple[str, str]]) -> tuple[Mapping | None, str]:
        for name in names:
            base = bedrock_base(name)
            versions = [base, base.removesuffix(BEDROCK_VERSION)] + (
                [] if base.endswith(":0") else [base + BEDROCK_VERSION]
            )
            for candidate in dict.fromkeys(versions):
                if candidate == name or not (found := self.by_id.get((BEDROCK, candidate))):
                    continue
                if base != name and (BEDROCK, candidate) in stated:
                    return None, f"regional profile of {candidate!r}, which the feed prices itself"
                return found, ""
        return None, ""

    def _by_model(self, provider: str, names: list[str]) -> tuple[Mapping | None, str]:
        tried = dict.fromkeys([*names, *(name.rsplit("/", 1)[-1] for name in names)])
        for name in tried:
            model_id, _ = self.models.match(bedrock_base(name) if provider == BEDROCK else name)
            if model_id is None:
                continue
            offers = self.by_model.get((provider, model_id), [])
            if len(offers) == 1:
                return offers[0], "model"
            if offers:
                ids = ", ".join(sorted(o.provider_model_id for o in offers))
                return None, f"ambiguous: {len(offers)} offers of this model at {provider} ({ids})"
            return None, f"no offer of the model it names at {provider}"
        return None, "no offer or model of ours matches this id"


def price_statements_match(statements: list[PriceStatement], *, index: OfferIndex | None = None) -> PriceMatches:
    """Each statement's one offer, or why none: see the module docstring for the order and the refusals."""
    index = index or OfferIndex.build()
    stated = {(s.provider, s.model_key) for s in statements if s.provider} | {
        (s.provider, offer_id) for s in statements if s.provider for offer_id in feed_ids(s)
    }
    result = PriceMatches()
    found: list[PriceMatch] = []
    for statement in statements:
        mapping, how = index.find(statement, stated)
        if mapping is not None:
            found.append(PriceMatch(statement, mapping, how))
        elif any(note.startswith("mode:") for note in statement.notes):
            result.dropped += 1
        else:
            kind = "provider" if statement.provider not in index.providers else "offer"
            result.unmatched.append(UnmatchedStatement(statement, how, kind))
    # One feed row per offer: the best-ranked claim wins; a tie between different rows is ambiguous.
    claims: dict[int, list[PriceMatch]] = defaultdict(list)
    for match in found:
        claims[match.mapping.pk].append(match)
    for offer_claims in claims.values():
        best = min(RANK[m.how] for m in offer_claims)
        winners = {row_key(m.statement) for m in offer_claims if RANK[m.how] == best}
        for match in offer_claims:
            if len(winners) == 1 and row_key(match.statement) in winners:
                result.matched.append(match)
            elif len(winners) == 1:
                winner = next(iter(winners))[2]
                reason = f"offer already priced by row {winner!r}"
                result.unmatched.append(UnmatchedStatement(match.statement, reason, "duplicate"))
            else:
                reason = f"ambiguous: {len(winners)} feed rows name offer {match.mapping.provider_model_id!r}"
                result.unmatched.append(UnmatchedStatement(match.statement, reason, "duplicate"))
    return result


def _json_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A statement's fields as the JSON column reads them back (decimal strings; lists, never tuples)."""
    return json.loads(
        json.dumps({name: str(value) if isinstance(value, Decimal) else value for name, value in fields.items()})
    )


def unmatched_prices_record(*, unmatched: list[UnmatchedStatement], run: IngestionRun | None = None) -> int:
    """List the unmatched feed rows for curators: one row per source, provider key and model key (the latest
    statement of a feed row wins). Returns how many feed rows are listed, written or not.

    Writes only what changed, so an unchanged feed run writes nothing here: a new feed row is created; a row whose
    fields or reason changed is updated (last_seen and run with it); an unchanged row is touched only when its
    last_seen is a day old or more. `last_seen` is therefore honest at day resolution: the row was seen then and in
    every run since, and within the last day, not necessarily at that instant (`run` is the run that last wrote it).
    """
    latest: dict[Key, UnmatchedStatement] = {}
    for item in unmatched:
        latest[row_key(item.statement)] = item
    if not latest:
        return 0
    now = timezone.now()
    existing = {
        (row.source, row.provider_key, row.model_key): row
        for row in UnmatchedPrice.objects.filter(source__in={source for source, _, _ in latest}).only(
            "source", "provider_key", "model_key", "fields", "reason", "last_seen"
        )
    }
    to_create: list[UnmatchedPrice] = []
    to_update: list[UnmatchedPrice] = []
    for key, item in latest.items():
        fields, reason = _json_fields(item.statement.fields), item.reason[:200]
        row = existing.get(key)
        if row is None:
            source, provider_key, model_key = key
            to_create.append(
                UnmatchedPrice(
                    source=source, provider_key=provider_key, model_key=model_key, fields=fields, reason=reason, run=run
                )
            )
        elif row.fields != fields or row.reason != reason or now - row.last_seen >= LAST_SEEN_RESOLUTION:
            row.fields, row.reason, row.last_seen, row.run = fields, reason, now, run
            to_update.append(row)
    if to_create:  # update_conflicts: a row listed since the read above (no two runs of one feed overlap) is updated
        UnmatchedPrice.objects.bulk_create(
            to_create,
            update_conflicts=True,
            unique_fields=["source", "provider_key", "model_key"],
            update_fields=["fields", "reason", "last_seen", "run"],
            batch_size=1000,
        )
    if to_update:  # bulk_update leaves auto_now alone: last_seen is set above
        UnmatchedPrice.objects.bulk_update(to_update, ["fields", "reason", "last_seen", "run"], batch_size=1000)
    return len(latest)
