"""Applying an aggregator's endpoints (OpenRouter's) as offers of the aggregator itself, with their provenance.

An OpenRouter endpoint is an offer of the `openrouter` provider under OpenRouter's endpoint id
(`deepseek/deepseek-v3@deepinfra/fp8`, `openai/gpt-4o:extended@openai`); the upstream provider that serves it,
its quantization and its variant (`free`, `extended`, ...) are facts recorded on the offer. It is never an offer of
the upstream provider: that provider's own price and id are not what OpenRouter sells.
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.utils import timezone

from catalog import bulk
from catalog.models import Mapping, Provider
from catalog.signals import catalogue_changed
from ingestion.matching import ModelIndex
from ingestion.models import IngestionRun
from modelgraph.storable_text import is_storable

OFFER_FIELDS = (
    "price_input",
    "price_output",
    "price_cached_input",
    "price_cache_write",
    "context_window",
    "max_output",
    "quantization",
    "served_by",
    "variant",
)
TEXT_FIELDS = ("quantization", "served_by", "variant")


def _max_length(field: str) -> int:
    return getattr(Mapping._meta.get_field(field), "max_length", None) or 0


PMID_MAX = _max_length("provider_model_id")


def split_variant(model_id: str) -> tuple[str, str]:
    """`openai/gpt-4o:extended` → (`openai/gpt-4o`, `extended`): the variant is a routing label, never a model."""
    base, _, variant = model_id.partition(":")
    return base, variant


def endpoint_id(offer: dict) -> str:
    """OpenRouter's stable id of one endpoint: `<model id with variant>@<endpoint tag>`."""
    if offer.get("endpoint_id"):
        return offer["endpoint_id"]
    tag = offer.get("tag") or offer.get("served_by") or offer.get("provider_slug") or ""
    return f"{offer['openrouter_model_id']}@{tag}" if tag else offer["openrouter_model_id"]


def aggregator_provider(slug: str) -> Provider:
    """The aggregator's own provider row (from the registry, or created outside it when the registry lacks it)."""
    provider = Provider.objects.filter(slug=slug).first()
    if provider is None:
        provider = Provider(slug=slug, name="OpenRouter" if slug == "openrouter" else slug, in_registry=False)
        provider._change_reason = f"ingestion: aggregator {slug}"  # type: ignore[attr-defined]  # simple-history
        provider.save()
    return provider


def _offer_values(offer: dict, model_id: int) -> dict | None:
    """The mapping's values for one offer; None when a text fact does not fit its column (never cut short)."""
    values = {field: offer.get(field) for field in OFFER_FIELDS}
    values["served_by"] = offer.get("served_by") or offer.get("provider_slug")
    values["variant"] = offer.get("variant") or split_variant(offer["openrouter_model_id"])[1]
    for field in TEXT_FIELDS:
        text = str(values[field] or "")
        if len(text) > _max_length(field):
            return None
        values[field] = text
    return {"model_id": model_id, **values}


@transaction.atomic
def ingestion_apply_offers(*, run: IngestionRun, offers: list[dict]) -> Counter:
    """Upsert one offer of the aggregator (`run.source`, e.g. "openrouter") per endpoint, matched to the model of its
    base id; a registry offer keeps its own values and is only counted. Offers an earlier sync misfiled on upstream
    providers are removed (see `_remove_misfiled`)."""
    provider = aggregator_provider(run.source)
    index = ModelIndex.build()
    counts: Counter = Counter()
    wanted: dict[str, dict] = {}
    for offer in offers:
        model_id, _ = index.match(split_variant(offer["openrouter_model_id"])[0])
        if model_id is None:
            counts["unmatched"] += 1
            continue
        provider_model_id, values = endpoint_id(offer), _offer_values(offer, model_id)
        if values is None or len(provider_model_id) > PMID_MAX or not is_storable((provider_model_id, values)):
            # An id or fact longer than its column, or holding a NUL or a lone surrogate: skipped, never truncated
            # into another id or cleaned into a value nobody stated.
            counts["invalid"] += 1
            continue
        wanted[provider_model_id] = values
    existing = {
        m.provider_model_id: m
        for m in Mapping.objects.filter(provider=provider, provider_model_id__in=list(wanted)).iterator()
    }
    now = timezone.now()
    to_create, to_update = [], []
    for provider_model_id, values in wanted.items():
        current = existing.get(provider_model_id)
        if current is None:
            to_create.append(
                Mapping(
                    provider=provider,
                    provider_model_id=provider_model_id,
                    in_registry=False,
                    source=run.source,
                    source_updated_at=now,
                    **values,
                )
            )
        elif current.source == "registry":
            counts["registry_kept"] += 1  # manual curation outranks the aggregator
        elif any(getattr(current, f) != v for f, v in values.items()):
            for field, value in values.items():
                setattr(current, field, value)
            current.source, current.source_updated_at = run.source, now
            to_update.append(current)
    Mapping.objects.bulk_create(to_create, batch_size=1000)
    Mapping.objects.bulk_update(to_update, [*OFFER_FIELDS, "model_id", "source", "source_updated_at"], batch_size=1000)
    counts["offers_added"], counts["offers_updated"] = len(to_create), len(to_update)
    bulk.copy_to_history(Mapping, [m.pk for m in to_create], "+", f"ingestion: {run.source}")
    bulk.copy_to_history(Mapping, [m.pk for m in to_update], "~", f"ingestion: {run.source}")
    removed = _remove_misfiled(run=run, provider=provider)
    counts["misfiled_removed"] = len(removed)
    touched = {m.model_id for m in (*to_create, *to_update)} | {model for model, _ in removed}
    if touched:
        provider_ids = {provider.pk, *(p for _, p in removed)}
        transaction.on_commit(
            lambda: catalogue_changed.send(sender=IngestionRun, model_ids=touched, provider_ids=provider_ids)
        )
    return counts


def _remove_misfiled(*, run: IngestionRun, provider: Provider) -> list[tuple[int, int]]:
    """Delete the offers this source once filed on upstream providers (source `run.source`, another provider).

    Deleted, not retired: such a row was never an offer of that provider (OpenRouter's price under an id the
    provider does not serve), so "retired by the provider" would be a false lifecycle fact. History keeps each row
    with the reason. Curated rows (source "registry") are never touched. Returns (model id, provider id) per row."""
    misfiled = Mapping.objects.filter(source=run.source).exclude(provider=provider)
    rows = list(misfiled.filter(in_registry=False).values_list("pk", "model_id", "provider_id"))
    if not rows:
        return []
    reason = f"ingestion: {run.source} endpoint misfiled on its upstream provider"
    for mapping in Mapping.objects.filter(pk__in=[pk for pk, _, _ in rows]):
        mapping._change_reason = reason  # type: ignore[attr-defined]  # kept by simple-history
        mapping.delete()
    return [(model, prov) for _, model, prov in rows]
