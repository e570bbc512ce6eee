"""QuerySet methods that shape catalogue reads once, named for what the caller wants."""

from __future__ import annotations

import json
from decimal import Decimal

from django.apps import apps
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections, models
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce


def json_list_contains(queryset: models.QuerySet, field: str, value: str) -> models.QuerySet:
    """Rows whose JSON list `field` holds `value`, on PostgreSQL (GIN containment) and on the embedded SQLite alike."""
    if connections[queryset.db].vendor == "sqlite":
        # SQLite has no JSON containment lookup; the list is stored as JSON text, so match the quoted element.
        return queryset.filter(**{f"{field}__icontains": json.dumps(value)})
    return queryset.filter(**{f"{field}__contains": [value]})


def _mapping_model():
    return apps.get_model("catalog", "Mapping")


def pay_per_use() -> tuple[str, ...]:
    """The billing kinds that compete for "cheapest" (catalog.models imports this module, hence the late import)."""
    from catalog.models import PAY_PER_USE

    return tuple(PAY_PER_USE)


def _count_subquery(queryset: models.QuerySet, group: str, counted: str) -> Coalesce:
    """COUNT(DISTINCT counted) of `queryset` rows as a correlated subquery (no GROUP BY on the outer query)."""
    counts = queryset.order_by().values(group).annotate(n=Count(counted, distinct=True)).values("n")
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


LIST_COLUMNS = (
    "slug",
    "name",
    "status",
    "release_date",
    "context_window",
    "max_output",
    "input_modalities",
    "output_modalities",
    "capabilities",
    "open_weights",
    "in_registry",
    "needs_review",
    "creator",
    "creator__slug",
    "creator__name",
    "family",
    "family__slug",
    "family__name",
)
PROVIDER_COLUMNS = ("slug", "name", "kind", "website", "docs_url", "api_base_url", "openai_compatible", "in_registry")
MAPPING_COLUMNS = (
    "provider",
    "provider__slug",
    "provider__name",
    "model",
    "provider_model_id",
    "price_input",
    "price_output",
    "price_cached_input",
    "price_cache_write",
    *("price_cache_write_1h", "price_reasoning", "price_audio_input", "price_audio_output", "price_image_input"),
    *("price_image_output", "price_per_image", "price_per_request", "price_web_search", "price_batch_input"),
    *("price_batch_output", "price_tiers", "regional_uplift", "billing"),
    "context_window",
    "max_output",
    "quantization",
    "served_by",
    "variant",
    "delivery_modes",
    "status",
    "retirement_date",
    "in_registry",
    "needs_review",
    *("prices_checked", "provenance"),
)


class ProviderQuerySet(models.QuerySet):
    def with_model_counts(self) -> ProviderQuerySet:
        return self.annotate(model_count=Count("mappings__model", distinct=True, filter=Q(mappings__in_registry=True)))

    def for_api(self) -> ProviderQuerySet:
        """Providers with `models_count`: how many distinct models each offers (any mapping)."""
        mappings = _mapping_model().objects.filter(provider=OuterRef("pk"))
        return self.only(*PROVIDER_COLUMNS).annotate(models_count=_count_subquery(mappings, "provider", "model"))


class ModelQuerySet(models.QuerySet):
    def with_relations(self) -> ModelQuerySet:
        return self.select_related("creator", "family", "successor")

    def in_registry(self) -> ModelQuerySet:
        return self.filter(in_registry=True)

    def for_api(self) -> ModelQuerySet:
        """Models with their relations and the list annotations: `providers_count`, cheapest input/output price."""
        return self.with_relations().with_offer_summary()

    def for_api_list(self) -> ModelQuerySet:
        """`for_api` reading only the columns a list row shows (no descriptions, no timestamps to parse); on
        PostgreSQL each row also carries its sorted `alias_names` (elsewhere `attach_alias_names` adds them)."""
        queryset = self.select_related("creator", "family").only(*LIST_COLUMNS).with_offer_summary()
        if connections[self.db].vendor == "postgresql":
            aliases = apps.get_model("catalog", "Alias").objects.filter(model=OuterRef("pk")).order_by("alias")
            queryset = queryset.annotate(alias_names=ArraySubquery(aliases.values("alias")))
        return queryset

    def with_offer_summary(self, *, include_plans: bool = False) -> ModelQuerySet:
        """`providers_count` (every offer) and `min_price_input`/`min_price_output`: the lowest prices among the
        pay-per-use offers (billing per token or per request), or among all offers with `include_plans`."""
        mappings = _mapping_model().objects.filter(model=OuterRef("pk"))
        compared = mappings if include_plans else mappings.filter(billing__in=pay_per_use())

        def cheapest(field: str) -> Subquery:
            priced = compared.filter(**{f"{field}__isnull": False}).order_by(field).values(field)[:1]
            return Subquery(priced, output_field=models.DecimalField(max_digits=14, decimal_places=6))

        return self.annotate(
            providers_count=_count_subquery(mappings, "model", "provider"),
            min_price_input=cheapest("price_input"),
            min_price_output=cheapest("price_output"),
        )

    def with_capability(self, value: str) -> ModelQuerySet:
        return json_list_contains(self, "capabilities", value)

    def with_input_modality(self, value: str) -> ModelQuerySet:
        return json_list_contains(self, "input_modalities", value)

    def with_output_modality(self, value: str) -> ModelQuerySet:
        return json_list_contains(self, "output_modalities", value)

    def served_by(self, provider_slug: str) -> ModelQuerySet:
        # Exists, not a join: a model served under several ids by one provider must appear once.
        offers = _mapping_model().objects.filter(model=OuterRef("pk"), provider__slug=provider_slug)
        return self.filter(Exists(offers))

    def served_by_nobody(self) -> ModelQuerySet:
        return self.exclude(Exists(_mapping_model().objects.filter(model=OuterRef("pk"))))

    def priced_at_most(
        self, *, price_input: Decimal | None = None, price_output: Decimal | None = None, include_plans: bool = False
    ):
        """Models with at least one pay-per-use offer (any offer with `include_plans`) at or under the given price(s)
        per million tokens."""
        conditions: dict = {} if include_plans else {"billing__in": pay_per_use()}
        if price_input is not None:
            conditions["price_input__lte"] = price_input
        if price_output is not None:
            conditions["price_output__lte"] = price_output
        if price_input is None and price_output is None:
            return self
        return self.filter(Exists(_mapping_model().objects.filter(model=OuterRef("pk"), **conditions)))


class AliasQuerySet(models.QuerySet):
    def with_relations(self) -> AliasQuerySet:
        return self.select_related("model", "provider")


class MappingQuerySet(models.QuerySet):
    def with_relations(self) -> MappingQuerySet:
        return self.select_related("provider", "model")

    def for_api(self, *, include_plans: bool = False) -> MappingQuerySet:
        """Offers with their provider, blended price (3:1 input:output) annotated, cheapest first: pay-per-use offers
        first, then free tiers and plans (whose $0 is not a price per use), unless `include_plans` mixes them."""
        blended = (F("price_input") * 3 + F("price_output")) / 4
        queryset = (
            self.select_related("provider")
            .only(*MAPPING_COLUMNS)
            .annotate(blended_price=models.ExpressionWrapper(blended, output_field=models.DecimalField()))
        )
        order = [F("blended_price").asc(nulls_last=True), "provider__slug", "provider_model_id"]
        if not include_plans:
            paid = models.When(billing__in=pay_per_use(), then=Value(0))
            queryset = queryset.annotate(plan_last=models.Case(paid, default=Value(1), output_field=IntegerField()))
            order.insert(0, "plan_last")
        return queryset.order_by(*order)
