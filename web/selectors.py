"""Reads shaped for the browser pages, on top of the catalogue, telemetry and ingestion selectors.

Every function here runs a fixed number of queries whatever the number of rows it returns.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from catalog import ranking
from catalog.models import Alias, Family, Mapping, Model, Provider
from catalog.ranking import OfferRank
from catalog.resolution import model_lookup_exact, model_resolve_name
from catalog.search import model_search
from ingestion.models import IngestionRun
from ingestion.selectors import ingestion_latest_runs
from snapshots.page_data import ModelHistoryLinks, model_history_links
from telemetry.models import HourlyHealth, HourlyLatency
from web.price_history import Drawn, drawn_offers

SEARCH_LIMIT = 8


def search_suggestions(term: str, *, limit: int = SEARCH_LIMIT) -> list[Model]:
    """The models best matching `term` (names, slugs and aliases), best first, with their creator."""
    if not term.strip():
        return []
    return list(model_search(Model.objects.select_related("creator"), term)[:limit])


def catalogue_counts() -> dict[str, int]:
    serving = Provider.objects.filter(Exists(Mapping.objects.filter(provider=OuterRef("pk"))))
    return {"models": Model.objects.count(), "providers": serving.count(), "offers": Mapping.objects.count()}


def newest_models(*, limit: int = 8) -> QuerySet[Model]:
    """Released, reviewed models, newest first (a release date in the future is an announcement, not a release)."""
    released = Model.objects.for_api().filter(
        needs_review=False, release_date__isnull=False, release_date__lte=timezone.now().date()
    )
    return released.order_by("-release_date", "slug")[:limit]


def most_served_models(*, limit: int = 8) -> list[Model]:
    """The models with the most providers. Two queries: the top ids from one pass over the offers, then those few
    models with their list annotations (ordering every model by its annotation would compute it for all of them)."""
    top = (
        Mapping.objects.filter(model__needs_review=False)
        .values("model_id")
        .annotate(providers=Count("provider_id", distinct=True))
        .order_by("-providers", "model__slug")[:limit]
    )
    models = Model.objects.for_api().filter(pk__in=[row["model_id"] for row in top])
    return sorted(models, key=lambda model: (-model.providers_count, model.slug))


def model_list_queryset() -> QuerySet[Model]:
    return Model.objects.for_api()


def serving_provider_choices() -> list[tuple[str, str]]:
    serving = Provider.objects.filter(Exists(Mapping.objects.filter(provider=OuterRef("pk"))))
    return list(serving.order_by("name").values_list("slug", "name"))


def family_choices() -> list[tuple[str, str]]:
    return list(Family.objects.order_by("name").values_list("slug", "name"))


@dataclass(frozen=True)
class AliasName:
    alias: str
    provider: str  # the name of the provider that uses it, or ""


@dataclass(frozen=True)
class ModelLookup:
    """What a model path names: the model ready for its page, a canonical slug to redirect to, or nothing.

    With the model come the parts of its page that only a catalogue write or a snapshot batch change: its aliases,
    the offers that are ranked (`catalog.ranking.offers_to_rank_of_model`, with their provider), the archive links
    of its OpenRouter offers and the price periods its chart draws."""

    model: Model | None = None
    redirect_to: str | None = None
    aliases: list[AliasName] = field(default_factory=list)
    offers: list[Mapping] = field(default_factory=list)
    history_links: ModelHistoryLinks = field(default_factory=lambda: ModelHistoryLinks([], {}))
    price_history: Drawn = field(default_factory=list)


def model_page_read(identifier: str) -> ModelLookup:
    """The model at /models/<identifier> by its slug, with what its page shows that only the catalogue and the
    archive change (six queries), or an alias or other spelling of it, which the page answers with a redirect to the
    canonical slug (web/model_page.py keeps it under their versions)."""
    # A slug is unique: a slice, not first(), whose ordering only costs compiling.
    model = next(iter(Model.objects.for_api().filter(slug=identifier)[:1]), None)
    if model is None:
        found = model_lookup_exact(identifier)
        return ModelLookup(redirect_to=found[0].slug) if found else ModelLookup()
    names = Alias.objects.filter(model=model).order_by("alias").values_list("alias", "provider__name")
    return ModelLookup(
        model=model,
        aliases=[AliasName(alias, provider or "") for alias, provider in names],
        offers=ranking.offers_to_rank_of_model(model.pk),
        history_links=model_history_links(model.pk),  # OpenRouter's offers of it: the archive's pages
        price_history=drawn_offers(model.pk),
    )


def model_suggestions(name: str, *, limit: int = 5) -> list[Model]:
    """Did you mean: the models a mistyped name most likely meant, best first."""
    resolution = model_resolve_name(name[:300])
    models = ([resolution.model] if resolution.model else []) + [c.model for c in resolution.candidates]
    unique: dict[int, Model] = {}
    for model in models:
        unique.setdefault(model.pk, model)
    return list(unique.values())[:limit]


def provider_suggestions(name: str, *, limit: int = 5) -> list[Provider]:
    """Did you mean: providers whose slug or name looks like `name` (difflib over ~200 rows, one query)."""
    providers = list(Provider.objects.only("slug", "name"))
    names = {p.slug: p for p in providers} | {p.name.lower(): p for p in providers}
    close = difflib.get_close_matches(name.lower()[:100], list(names), n=limit * 2, cutoff=0.5)
    unique: dict[int, Provider] = {}
    for value in close:
        unique.setdefault(names[value].pk, names[value])
    return list(unique.values())[:limit]


# Sort keys of the comparison table: what each column sorts by (missing values always last).
OFFER_SORTS = {
    "provider": lambda o: o.provider.name.lower(),
    "input": lambda o: o.mapping.price_input,
    "output": lambda o: o.mapping.price_output,
    "blended": lambda o: o.blended_price,
    "context": lambda o: o.mapping.context_window,
    "max_output": lambda o: o.mapping.max_output,
    "uptime": lambda o: o.uptime,
    "ttft": lambda o: o.median_ttft_ms,
    "total": lambda o: o.median_total_ms,
    "score": lambda o: o.score,
}


def model_offers(offers: list[Mapping], *, sort: str = "") -> list[OfferRank]:
    """A model's offers to rank (`ModelLookup.offers`) side by side with their uptime, medians and score; cheapest
    and fastest marked.

    Default order and marks are `catalog.ranking`'s (best score, then blended price, then provider), as
    `model_offer_ranking` gives them from the same offers; `sort` reorders."""
    return sort_rows(ranking.offers_rank(offers, ranking.offer_telemetry(offers)), sort, OFFER_SORTS)


def sort_rows(rows: list, sort: str, keys: dict) -> list:
    """Rows sorted by `sort` ("key" or "-key"); rows without a value stay last either way."""
    name = sort.lstrip("-")
    if name not in keys:
        return rows
    key = keys[name]
    present = [row for row in rows if key(row) is not None]
    missing = [row for row in rows if key(row) is None]
    return sorted(present, key=key, reverse=sort.startswith("-")) + missing


def provider_offers(provider: Provider) -> list[Mapping]:
    """Every model a provider serves with its prices there, by model name."""
    return list(
        Mapping.objects.filter(provider=provider).select_related("model").order_by("model__name", "provider_model_id")
    )


def telemetry_providers() -> list[Provider]:
    """Providers with any telemetry roll-up, for the dashboard's picker."""
    probed = Exists(HourlyHealth.objects.filter(provider=OuterRef("pk"))) | Exists(
        HourlyLatency.objects.filter(provider=OuterRef("pk"))
    )
    return list(Provider.objects.filter(probed).order_by("name"))


def telemetry_offers(provider: Provider) -> list[Mapping]:
    """The offers of a provider that were probed (health or latency), for the dashboard's picker."""
    probed = Exists(HourlyHealth.objects.filter(mapping=OuterRef("pk"))) | Exists(
        HourlyLatency.objects.filter(mapping=OuterRef("pk"))
    )
    return list(Mapping.objects.filter(probed, provider=provider).select_related("model").order_by("model__name"))


def ingestion_status() -> list[IngestionRun]:
    """The latest run of each source, by source name."""
    return sorted(ingestion_latest_runs(), key=lambda run: run.source)


def provider_directory() -> QuerySet[Provider]:
    """Every provider with how many models it serves (`models_count`) and how many it created."""
    return Provider.objects.for_api().order_by("name")
