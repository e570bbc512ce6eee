"""Exporting the catalogue back to registry YAML, so that load(export) changes nothing."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db.models import Q

from catalog.models import Alias, Family, Mapping, Model, Provider
from ingestion.models import FieldPin
from ingestion.resolution import RESOLVED_FIELDS
from registry.offer_rows import PRICE_KEYS, TIER_KEYS
from registry.writer import RegistryDocuments, write_registry

PROVIDER_KEYS = ("kind", "website", "docs_url", "api_base_url", "api_key_env", "openai_compatible")
MODEL_KEYS = tuple(f for f in RESOLVED_FIELDS if f not in ("name", "successor"))  # in schema order
DEFAULTS = {"kind": "inference", "status": "active", "open_weights": False, "openai_compatible": False}


def _keep(key: str, value) -> bool:
    """Leave out empty values and schema defaults: the loader fills them back identically."""
    return value not in (None, "", []) and DEFAULTS.get(key, object()) != value


def _lifecycle(row: Alias | Mapping) -> dict:
    """An offer's or alias's own status and retirement date, as the registry writes them (defaults left out)."""
    stated: dict = {}
    if row.status != "active":
        stated["status"] = row.status
    if row.retirement_date:
        stated["retirement_date"] = row.retirement_date.isoformat()
    return stated


def _offer_prices(mapping: Mapping) -> dict:
    """An offer's pricing, tiers, uplift and billing as the registry writes them (the default billing left out)."""
    stated: dict = {}
    pricing = {
        key: getattr(mapping, column) for key, column in PRICE_KEYS.items() if getattr(mapping, column) is not None
    }
    if pricing:
        stated["pricing"] = pricing
    if mapping.price_tiers:
        stated["tiers"] = [
            {"above": tier["above"], **{key: Decimal(tier[key]) for key in TIER_KEYS if key in tier}}
            for tier in mapping.price_tiers
        ]
    if mapping.regional_uplift is not None:
        stated["regional_uplift"] = mapping.regional_uplift
    if mapping.billing != "per_token":
        stated["billing"] = mapping.billing
    return stated


def catalog_documents(*, pinned: bool = False) -> RegistryDocuments:
    """Every row still in the registry, as registry documents (references kept only to exported rows). With
    `pinned`, the curators' changes too: each model's pinned fields over what the registry states, and the aliases
    curators added or edited (AliasPin) — so they can be committed back and the registry stays the source of truth.
    (Offers are written as they show, pinned values included, either way.)"""
    providers = {p.pk: p for p in Provider.objects.filter(in_registry=True)}
    families = {f.pk: f for f in Family.objects.filter(in_registry=True)}
    models = {m.pk: m for m in Model.objects.filter(in_registry=True)}
    slugs = {m.slug for m in models.values()}
    field_pins: dict[int, dict] = defaultdict(dict)
    if pinned:
        for model_id, name, value in FieldPin.objects.values_list("model_id", "field", "value"):
            field_pins[model_id][name] = value
    documents = RegistryDocuments()
    for provider in sorted(providers.values(), key=lambda p: p.slug):
        doc: dict[str, Any] = {"slug": provider.slug, "name": provider.name}
        doc.update({k: getattr(provider, k) for k in PROVIDER_KEYS if _keep(k, getattr(provider, k))})
        documents.providers.append(doc)
    for family in sorted(families.values(), key=lambda f: f.slug):
        doc = {"slug": family.slug, "name": family.name}
        if family.creator_id in providers:
            doc["creator"] = providers[family.creator_id].slug
        documents.families.append(doc)

    aliases = defaultdict(list)
    listed = Q(in_registry=True) | Q(pin__isnull=False) if pinned else Q(in_registry=True)
    for alias in Alias.objects.filter(listed, model_id__in=models.keys()).order_by("alias"):
        entry: dict = {"alias": alias.alias}
        if alias.provider_id in providers:
            entry["provider"] = providers[alias.provider_id].slug
        entry.update(_lifecycle(alias))
        aliases[alias.model_id].append(entry if len(entry) > 1 else alias.alias)
    for model in sorted(models.values(), key=lambda m: m.slug):
        # The registry tier only: what the registry stated, not values pins or automated sources supplied.
        stated = model.registry_values
        if pinned and model.pk in field_pins:
            stated = {**stated, **field_pins[model.pk]}
            stated = {key: value for key, value in stated.items() if value is not None}
        doc = {"slug": model.slug, "name": stated.get("name", model.name)}
        if model.creator_id in providers:
            doc["creator"] = providers[model.creator_id].slug
        if model.family_id in families:
            doc["family"] = families[model.family_id].slug
        if stated.get("successor") in slugs:
            doc["successor"] = stated["successor"]
        doc.update({k: stated[k] for k in MODEL_KEYS if k in stated})
        if aliases[model.pk]:
            doc["aliases"] = list(aliases[model.pk])
        documents.models.append(doc)

    mappings = Mapping.objects.filter(
        in_registry=True, model_id__in=models.keys(), provider_id__in=providers.keys()
    ).order_by("provider_model_id")
    for mapping in mappings:
        offer = {"provider_model_id": mapping.provider_model_id, **_lifecycle(mapping)}
        for key in ("served_by", "variant"):
            if getattr(mapping, key):
                offer[key] = getattr(mapping, key)
        offer.update(_offer_prices(mapping))
        for key in ("context_window", "max_output", "quantization"):
            if _keep(key, getattr(mapping, key)):
                offer[key] = getattr(mapping, key)
        if mapping.delivery_modes:
            offer["delivery"] = mapping.delivery_modes
        if (mapping.registry_values or {}).get("prices_checked"):
            offer["prices_checked"] = mapping.registry_values["prices_checked"]
        file_key = (providers[mapping.provider_id].slug, models[mapping.model_id].slug)
        documents.mappings.setdefault(file_key, {"model": file_key[1], "offers": []})["offers"].append(offer)
    for file_key, document in documents.mappings.items():
        documents.mappings[file_key] = _checked_once(document)
    return documents


def _checked_once(document: dict) -> dict:
    """A day every offer of the file shares is written once, at the top (as the importer writes it)."""
    days = {offer.get("prices_checked") for offer in document["offers"]}
    if len(days) != 1 or None in days:
        return document
    for offer in document["offers"]:
        del offer["prices_checked"]
    return {"model": document["model"], "prices_checked": days.pop(), "offers": document["offers"]}


def registry_export(*, out_dir: Path | str, pinned: bool = False) -> int:
    """Write the catalogue as a registry under out_dir (replacing its registry folders); returns files written.
    With `pinned`, the curators' pins and aliases are written in (see `catalog_documents`)."""
    return write_registry(Path(out_dir), catalog_documents(pinned=pinned))
