"""Reads for the archive's browser pages: which catalogue offers have an OpenRouter history page, the catalogue
model behind an archived model, and the list of archived models.

An OpenRouter offer in the catalogue is a mapping of the `openrouter` provider whose provider model id is
OpenRouter's endpoint id (`deepseek/deepseek-v3@deepinfra/fp8`) or, for a curated registry offer, the model id
itself (`openai/gpt-4o`); either way the archived model's key is what precedes the `@`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from catalog.models import Mapping, Model, Provider
from snapshots.models import Batch, Entity, EntityKind
from snapshots.querysets import batch_reports

OPENROUTER = "openrouter"
MAX_TERM_LENGTH = 200


def snapshot_model_key(provider_model_id: str) -> str:
    """`deepseek/deepseek-v3@deepinfra/fp8` (an endpoint id) or `deepseek/deepseek-v3` → `deepseek/deepseek-v3`."""
    return provider_model_id.partition("@")[0]


def model_history_url(model_key: str, endpoint_key: str = "") -> str:
    """The history page of an archived model; with an endpoint key, its section of that page."""
    url = reverse("snapshots-model-history", args=[model_key])
    return f"{url}#{endpoint_anchor(endpoint_key)}" if endpoint_key else url


def endpoint_anchor(endpoint_key: str) -> str:
    """A fragment id for an endpoint's section (`x/y@deepinfra/fp8` → `endpoint-x-y-deepinfra-fp8`)."""
    return "endpoint-" + "".join(c if c.isalnum() or c in "-_.:" else "-" for c in endpoint_key)


def archived_model_keys(keys: Iterable[str]) -> set[str]:
    """The keys among `keys` that name a model of the archive (one query; none when `keys` is empty)."""
    wanted = {key for key in keys if key}
    if not wanted:
        return set()
    return set(Entity.objects.filter(kind=EntityKind.MODEL, key__in=wanted).values_list("key", flat=True))


@dataclass(frozen=True)
class HistoryLink:
    """A link to an archived model's history: the OpenRouter model id it shows and the page's address."""

    model_key: str
    url: str


def _offer_links(provider_model_ids: dict[int, str]) -> dict[int, HistoryLink]:
    """Mapping id → link, for the OpenRouter offers (id → provider model id) whose model is archived (one query)."""
    keys = {pk: snapshot_model_key(pmid) for pk, pmid in provider_model_ids.items()}
    archived = archived_model_keys(keys.values())
    return {
        pk: HistoryLink(key, model_history_url(key, pmid if "@" in (pmid := provider_model_ids[pk]) else ""))
        for pk, key in keys.items()
        if key in archived
    }


def offer_history_links(provider: Provider, mappings: Iterable[Mapping]) -> dict[int, HistoryLink]:
    """For a provider's offers: the archive link of each, by mapping id, when the provider is OpenRouter and the
    offer's model is archived; nothing for any other provider. One query at most."""
    if provider.slug != OPENROUTER:
        return {}
    return _offer_links({m.pk: m.provider_model_id for m in mappings})


@dataclass(frozen=True)
class ModelHistoryLinks:
    """A catalogue model's links to the archive: one per archived OpenRouter model id among its OpenRouter offers
    (`x/y`, `x/y:free`...), and each such offer's own link by mapping id."""

    models: list[HistoryLink]
    offers: dict[int, HistoryLink]


def model_history_links(model_pk: int) -> ModelHistoryLinks:
    """The archive links of a catalogue model's OpenRouter offers, curated or ingested (two queries)."""
    offers = Mapping.objects.filter(model_id=model_pk, provider__slug=OPENROUTER).values_list("pk", "provider_model_id")
    links = _offer_links(dict(offers))
    keys = sorted({link.model_key for link in links.values()})
    return ModelHistoryLinks([HistoryLink(key, model_history_url(key)) for key in keys], links)


def catalogue_model_for(model_key: str) -> Model | None:
    """The catalogue model an archived OpenRouter model is an offer of (through an `openrouter` offer), if any."""
    offer = (
        Mapping.objects.filter(provider__slug=OPENROUTER)
        .filter(Q(provider_model_id=model_key) | Q(provider_model_id__startswith=f"{model_key}@"))
        .select_related("model")
        .order_by("provider_model_id")
        .first()
    )
    return offer.model if offer is not None else None


def archived_models(term: str = "") -> QuerySet[Entity]:
    """Archived models whose id contains `term`, by id, each with how many endpoints it ever had (`endpoints`)."""
    endpoint_count = (
        Entity.objects.filter(kind=EntityKind.ENDPOINT, model_key=OuterRef("key"))
        .order_by()
        .values("model_key")
        .annotate(n=Count("id"))
        .values("n")
    )
    models = (
        Entity.objects.filter(kind=EntityKind.MODEL)
        .select_related("first_seen", "last_seen")
        .defer(*batch_reports("first_seen"), *batch_reports("last_seen"))
        .annotate(endpoints=Coalesce(Subquery(endpoint_count), 0))
    )
    term = term.strip()[:MAX_TERM_LENGTH]
    if term:
        models = models.filter(key__icontains=term)
    return models.order_by("key")


def latest_batch() -> Batch | None:
    """The newest batch, complete or not (its hour and status only)."""
    return Batch.objects.defer("validation", "stats").order_by("-hour").first()
