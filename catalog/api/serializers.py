"""Shapes of the public catalogue API's bodies (read-only)."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import quote

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.api.offer_measurement import OfferMeasurementFields, offer_measurement
from catalog.api.offer_prices import OFFER_PRICE_FIELDS, OfferPriceFields, offer_prices
from catalog.api.verification import VERIFICATION_FIELDS, OfferVerificationFields, offer_verification
from catalog.models import DeliveryMode, Lifecycle, Mapping, Modality, Model, ModelCapability, Provider
from catalog.ranking import OfferRank

PRICE = {"max_digits": 14, "decimal_places": 6, "coerce_to_string": False, "allow_null": True, "read_only": True}

# Bodies are built by hand in `to_representation` (the declared fields document them): DRF's field-by-field path
# costs more than the queries on a 50-row page. tests/api/test_openapi_contract.py holds the two together.


class Links:
    """Absolute URLs of API objects from one reversed template per request (reverse() per row adds up)."""

    PLACEHOLDER = "__id__"

    def __init__(self, request):
        self.request = request
        self._templates: dict[str, str] = {}

    def url(self, name: str, identifier: str) -> str:
        template = self._templates.get(name)
        if template is None:
            path = reverse(name, args=[self.PLACEHOLDER])
            template = self.request.build_absolute_uri(path) if self.request is not None else path
            self._templates[name] = template
        return template.replace(self.PLACEHOLDER, quote(identifier, safe=""))


def _links(serializer: serializers.Serializer) -> Links:
    context = serializer.context
    if "_links" not in context:
        context["_links"] = Links(context.get("request"))
    return context["_links"]


def _ref(obj) -> dict | None:
    return None if obj is None else {"slug": obj.slug, "name": obj.name}


def _price(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _date(value) -> str | None:
    return None if value is None else value.isoformat()


class RefSerializer(serializers.Serializer):
    """A related object by its natural key and display name."""

    slug = serializers.CharField()
    name = serializers.CharField()


class ModelListSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(read_only=True, help_text="Canonical id: lowercase, hyphens and dots.")
    creator = RefSerializer(allow_null=True)
    family = RefSerializer(allow_null=True)
    status = serializers.ChoiceField(choices=Lifecycle.choices)
    input_modalities = serializers.ListField(child=serializers.ChoiceField(choices=Modality.choices))
    output_modalities = serializers.ListField(child=serializers.ChoiceField(choices=Modality.choices))
    capabilities = serializers.ListField(child=serializers.ChoiceField(choices=ModelCapability.choices))
    aliases = serializers.ListField(child=serializers.CharField(), help_text="Other names it goes by.")
    providers_count = serializers.IntegerField(help_text="How many providers offer it.")
    min_price_input = serializers.DecimalField(**PRICE, help_text="Cheapest pay-per-use input price, USD/M tokens.")
    min_price_output = serializers.DecimalField(**PRICE, help_text="Cheapest pay-per-use output price, USD/M tokens.")
    url = serializers.URLField(help_text="This model's detail.")
    needs_review = serializers.BooleanField(
        help_text="Created by ingestion from an id nothing matched and not yet reviewed by a curator: unverified."
    )

    class Meta:
        model = Model
        fields = [
            "slug",
            "name",
            "creator",
            "family",
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
            "aliases",
            "providers_count",
            "min_price_input",
            "min_price_output",
            "url",
        ]

    def to_representation(self, obj: Model | dict) -> dict:
        """One body from a `selectors.ModelRows` row (a dict: no model objects built for a page) or a Model."""
        row = obj if isinstance(obj, dict) else _model_row(obj)
        return {**list_row_body(row), "url": _links(self).url("api-model-detail", row["slug"])}


def list_row_body(row: dict) -> dict:
    """A model list row's body from a `selectors.ModelRows` row, all but its `url` (the last key, which depends on
    the request's host): what catalog/list_rows.py stores rendered."""
    creator, family = row["creator__slug"], row["family__slug"]
    return {
        **{field: row[field] for field in ROW_SCALARS},
        "creator": None if creator is None else {"slug": creator, "name": row["creator__name"]},
        "family": None if family is None else {"slug": family, "name": row["family__name"]},
        "release_date": _date(row["release_date"]),
        "aliases": row["alias_names"],
        "providers_count": row["providers_count"],
        "min_price_input": _price(row["min_price_input"]),
        "min_price_output": _price(row["min_price_output"]),
    }


def list_rows_with_urls(rows: list[tuple[str, str]], links: Links) -> list[str]:
    """The JSON of each (slug, stored body) row of the model list with its `url` added as the last key: the bytes
    `ModelListSerializer` renders for it (compact JSON, so the stored object's closing brace is its last byte)."""
    return [f'{body[:-1]},"url":{json.dumps(links.url("api-model-detail", slug))}}}' for slug, body in rows]


ROW_SCALARS = (
    *("slug", "name", "status", "context_window", "max_output", "input_modalities", "output_modalities"),
    *("capabilities", "open_weights", "in_registry", "needs_review"),
)


def _model_row(obj: Model) -> dict:
    """A Model as the row `ModelListSerializer` reads."""
    aliases = getattr(obj, "alias_names", None)
    if aliases is None:
        aliases = sorted(alias.alias for alias in obj.aliases.all())
    creator, family = _ref(obj.creator) or {}, _ref(obj.family) or {}
    return {
        **{field: getattr(obj, field) for field in (*ROW_SCALARS, "release_date", "providers_count")},
        **{"min_price_input": obj.min_price_input, "min_price_output": obj.min_price_output, "alias_names": aliases},
        **{"creator__slug": creator.get("slug"), "creator__name": creator.get("name")},
        **{"family__slug": family.get("slug"), "family__name": family.get("name")},
    }


class AliasSerializer(serializers.Serializer):
    alias = serializers.CharField()
    provider = serializers.CharField(source="provider.slug", allow_null=True, help_text="Provider it is scoped to.")


class ModelLinksSerializer(serializers.Serializer):
    self = serializers.URLField()
    providers = serializers.URLField()
    compare = serializers.URLField()


class ModelDetailSerializer(ModelListSerializer):
    successor = serializers.CharField(allow_null=True, help_text="Slug of the model that replaces it.")
    aliases = AliasSerializer(many=True)
    links = ModelLinksSerializer()

    class Meta(ModelListSerializer.Meta):
        fields = [
            *ModelListSerializer.Meta.fields[:-1],
            "description",
            "deprecation_date",
            "sunset_date",
            "successor",
            "parameters_total",
            "parameters_active",
            "license",
            "knowledge_cutoff",
            "canonical_url",
            "url",
            "links",
        ]

    def to_representation(self, obj: Model) -> dict:
        links = _links(self)
        return {
            **super().to_representation(obj),
            "aliases": [
                {"alias": alias.alias, "provider": alias.provider.slug if alias.provider_id else None}
                for alias in sorted(obj.aliases.all(), key=lambda alias: alias.alias)
            ],
            "description": obj.description,
            "deprecation_date": _date(obj.deprecation_date),
            "sunset_date": _date(obj.sunset_date),
            "successor": obj.successor.slug if obj.successor_id else None,
            "parameters_total": obj.parameters_total,
            "parameters_active": obj.parameters_active,
            "license": obj.license,
            "knowledge_cutoff": obj.knowledge_cutoff,
            "canonical_url": obj.canonical_url,
            "links": {
                "self": links.url("api-model-detail", obj.slug),
                "providers": links.url("api-model-providers", obj.slug),
                "compare": links.url("api-model-compare", obj.slug),
            },
        }


class MappingSerializer(OfferPriceFields, OfferVerificationFields, serializers.ModelSerializer):
    provider = RefSerializer()  # the flat price_* fields and the price sheet are OfferPriceFields
    delivery_modes = serializers.ListField(child=serializers.ChoiceField(choices=DeliveryMode.choices))
    status = serializers.ChoiceField(choices=Lifecycle.choices, help_text="This offer's own lifecycle.")
    retirement_date = serializers.DateField(allow_null=True, help_text="When the provider retires this offer.")
    needs_review = serializers.BooleanField(help_text="Created by ingestion from an id nothing matched: unverified.")

    class Meta:
        model = Mapping
        fields = [
            "provider",
            "provider_model_id",
            "price_input",
            "price_output",
            "price_cached_input",
            "price_cache_write",
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
            *OFFER_PRICE_FIELDS,
            *VERIFICATION_FIELDS,
        ]

    def to_representation(self, obj: Mapping) -> dict:
        return {
            "provider": _ref(obj.provider),
            "provider_model_id": obj.provider_model_id,
            "price_input": _price(obj.price_input),
            "price_output": _price(obj.price_output),
            "price_cached_input": _price(obj.price_cached_input),
            "price_cache_write": _price(obj.price_cache_write),
            "context_window": obj.context_window,
            "max_output": obj.max_output,
            "quantization": obj.quantization,
            "served_by": obj.served_by,
            "variant": obj.variant,
            "delivery_modes": obj.delivery_modes,
            "status": obj.status,
            "retirement_date": _date(obj.retirement_date),
            "in_registry": obj.in_registry,
            "needs_review": obj.needs_review,
            **offer_prices(obj),
            **offer_verification(obj),
        }


class CompareRowSerializer(OfferMeasurementFields, serializers.Serializer):
    provider = RefSerializer()
    provider_model_id = serializers.CharField()
    price_input = serializers.DecimalField(**PRICE)
    price_output = serializers.DecimalField(**PRICE)
    blended_price = serializers.DecimalField(
        **PRICE, help_text="(3 × input + output) / 4, USD per million tokens: what a typical chat workload pays."
    )
    context_window = serializers.IntegerField(allow_null=True)
    max_output = serializers.IntegerField(allow_null=True)
    quantization = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Lifecycle.choices)
    uptime = serializers.FloatField(allow_null=True, help_text="Own health checks passed (0–1); null: not measured.")
    median_ttft_ms = serializers.FloatField(allow_null=True, help_text="Median time to first token, ms.")
    median_total_ms = serializers.FloatField(allow_null=True, help_text="Median total response time, ms.")
    score = serializers.FloatField(allow_null=True, help_text="Ranking score (higher is better); null: not measured.")
    cheapest = serializers.BooleanField(help_text="The lowest blended price among its pay-per-use offers (not plans).")
    fastest = serializers.BooleanField(help_text="The lowest median time to first token of this model's offers.")

    def to_representation(self, row: OfferRank) -> dict:
        mapping = row.mapping
        return {
            "provider": _ref(row.provider),
            "provider_model_id": mapping.provider_model_id,
            "price_input": _price(mapping.price_input),
            "price_output": _price(mapping.price_output),
            "blended_price": _price(row.blended_price),
            "context_window": mapping.context_window,
            "max_output": mapping.max_output,
            "quantization": mapping.quantization,
            "status": mapping.status,
            **{name: getattr(row, name) for name in ("uptime", "median_ttft_ms", "median_total_ms", "score")},
            "cheapest": row.cheapest,
            "fastest": row.fastest,
            **offer_measurement(row),
        }


class CompareSerializer(serializers.Serializer):
    model = RefSerializer()
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CompareRowSerializer(many=True)


class ProviderSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(read_only=True)
    models_count = serializers.IntegerField(help_text="How many models it offers.")
    url = serializers.URLField(help_text="This provider's detail.")

    class Meta:
        model = Provider
        fields = [
            "slug",
            "name",
            "kind",
            "website",
            "docs_url",
            "api_base_url",
            "openai_compatible",
            "in_registry",
            "models_count",
            "url",
        ]

    def to_representation(self, obj: Provider) -> dict:
        return {
            **{name: getattr(obj, name) for name in self.Meta.fields[:-1]},
            "url": _links(self).url("api-provider-detail", obj.slug),
        }


class CandidateSerializer(serializers.Serializer):
    slug = serializers.CharField(source="model.slug")
    name = serializers.CharField(source="model.name")
    confidence = serializers.FloatField()
    matched = serializers.CharField(help_text="The slug, name or alias that came closest.")
    reason = serializers.CharField(
        help_text="Why it is not the answer (`other version 4.5 vs 4.1`, `other size 8b vs 70b`); empty when it "
        "agrees with the name on every distinguishing token."
    )

    def to_representation(self, candidate) -> dict:
        model, confidence = candidate.model, candidate.confidence
        return {
            "slug": model.slug,
            "name": model.name,
            "confidence": confidence,
            "matched": candidate.matched,
            "reason": getattr(candidate, "reason", ""),
        }


class ModelSummarySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Lifecycle.choices)
    needs_review = serializers.BooleanField(help_text="Created by ingestion from an unmatched id: unverified.")
    url = serializers.URLField()

    def to_representation(self, obj: Model) -> dict:
        url = _links(self).url("api-model-detail", obj.slug)
        return {"slug": obj.slug, "name": obj.name, "status": obj.status, "needs_review": obj.needs_review, "url": url}


class ResolutionSerializer(serializers.Serializer):
    query = serializers.CharField()
    model = ModelSummarySerializer()
    match = serializers.ChoiceField(choices=["exact_slug", "exact_alias", "normalised", "fuzzy"])
    confidence = serializers.FloatField(
        help_text="1.0 exact, 0.9 normalised (0.8 if a version was dropped), trigram similarity for fuzzy."
    )
    matched = serializers.CharField(help_text="The slug, name or alias that matched.")
    candidates = CandidateSerializer(many=True, help_text="Other close names (fuzzy matches only).")

    def to_representation(self, resolution) -> dict:
        return {
            "query": resolution.query,
            "model": ModelSummarySerializer(context=self.context).to_representation(resolution.model),
            "match": resolution.match,
            "confidence": resolution.confidence,
            "matched": resolution.matched,
            "candidates": [CandidateSerializer().to_representation(c) for c in resolution.candidates],
        }


class NotFoundWithNearMatchesSerializer(serializers.Serializer):
    detail = serializers.CharField()
    near_matches = CandidateSerializer(many=True)


class NoMatchSerializer(NotFoundWithNearMatchesSerializer):
    match = serializers.ChoiceField(choices=["none"], help_text="No model agrees with the name: `none`.")
    suggestions = CandidateSerializer(
        many=True, help_text="The near models, best first, each with why it was not taken (same as near_matches)."
    )


MAX_NAME_LENGTH = 300
# Not blank once stripped, no NUL (a 400 either way: the serializer, and the API base's NUL check).
NAME_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_NAME_LENGTH,
    "pattern": r"^[^\x00]*[^\s\x00][^\x00]*$",
}
NAME_REQUIRED = "This parameter is required: the name to resolve."


@extend_schema_field(NAME_SCHEMA)
class ModelNameField(serializers.CharField):
    default_error_messages = {"required": NAME_REQUIRED, "blank": NAME_REQUIRED}


class ResolveQuerySerializer(serializers.Serializer):
    """The query parameter of /api/resolve."""

    name = ModelNameField(
        max_length=MAX_NAME_LENGTH,
        error_messages={"max_length": f"At most {MAX_NAME_LENGTH} characters."},
        help_text="`gpt-4o-2024-08-06`, `openai/gpt-4o`, `deepseek-ai/DeepSeek-V3`, `Claude 3.5 Sonnet`…",
    )
