"""Applying offers from an aggregator's catalogue (OpenRouter's endpoints) as mappings with their provenance."""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog import bulk
from catalog.models import Mapping, Provider
from catalog.naming import normalise_name
from catalog.signals import catalogue_changed
from ingestion.matching import ModelIndex
from ingestion.models import IngestionRun

OFFER_FIELDS = (
    "price_input",
    "price_output",
    "price_cached_input",
    "price_cache_write",
    "context_window",
    "max_output",
    "quantization",
)


class ProviderIndex:
    """Aggregator provider names (`Together`, `together`, `DeepInfra`) → catalogue providers, created if new."""

    def __init__(self):
        self.by_key: dict[str, int] = {}
        for pk, slug, name in Provider.objects.values_list("pk", "slug", "name"):
            for key in (slug, name, slug.replace("-ai", "").replace("ai", ""), normalise_name(name)):
                self.by_key.setdefault(self._key(key), pk)

    @staticmethod
    def _key(text: str) -> str:
        return slugify(text).replace("-", "")

    def get_or_create(self, slug: str, name: str, source: str) -> int:
        for candidate in (slug, name, slug.split("/")[0]):
            pk = self.by_key.get(self._key(candidate or ""))
            if pk:
                return pk
        provider = Provider(slug=slugify(slug or name)[:100] or "unknown", name=name or slug, in_registry=False)
        provider._change_reason = f"ingestion: provider seen at {source}"
        provider.save()
        self.by_key[self._key(provider.slug)] = self.by_key[self._key(provider.name)] = provider.pk
        return provider.pk


@transaction.atomic
def ingestion_apply_offers(*, run: IngestionRun, offers: list[dict]) -> Counter:
    """Upsert one mapping per offer; a registry offer (manual tier) keeps its own values and is only counted."""
    index, providers = ModelIndex.build(), ProviderIndex()
    counts: Counter = Counter()
    wanted: dict[tuple[int, str], dict] = {}
    for offer in offers:
        model_id, _ = index.match(offer["openrouter_model_id"])
        if model_id is None:
            counts["unmatched"] += 1
            continue
        provider_id = providers.get_or_create(
            offer.get("provider_slug") or "", offer.get("provider_name") or "", run.source
        )
        # OpenRouter's v1 endpoints rarely name the provider's own id: its model id plus the endpoint tag stands in.
        tag = offer.get("tag") or ""
        provider_model_id = offer.get("provider_model_id") or (
            offer["openrouter_model_id"]
            if tag in ("", offer.get("provider_slug"))
            else f"{offer['openrouter_model_id']}@{tag}"
        )
        values = {field: offer.get(field) for field in OFFER_FIELDS}
        values["quantization"] = values["quantization"] or ""
        wanted[(provider_id, provider_model_id)] = {"model_id": model_id, **values}
    existing = {
        (m.provider_id, m.provider_model_id): m for m in Mapping.objects.filter(provider_id__in={p for p, _ in wanted})
    }
    now = timezone.now()
    to_create, to_update = [], []
    for (provider_id, provider_model_id), values in wanted.items():
        current = existing.get((provider_id, provider_model_id))
        if current is None:
            to_create.append(
                Mapping(
                    provider_id=provider_id,
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
    touched = {m.model_id for m in (*to_create, *to_update)}
    if touched:
        provider_ids = {m.provider_id for m in (*to_create, *to_update)}
        transaction.on_commit(
            lambda: catalogue_changed.send(sender=IngestionRun, model_ids=touched, provider_ids=provider_ids)
        )
    return counts
