"""Shapes of the public catalogue API's bodies (read-only)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from django.urls import reverse
from rest_framework import serializers

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
    min_price_input = serializers.DecimalField(**PRICE, help_text="Cheapest input price, USD per million tokens.")
    min_price_output = serializers.DecimalField(**PRICE, help_text="Cheapest output price, USD per million tokens.")
    url = serializers.URLField(help_text="This model's detail.")

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
            "aliases",
            "providers_count",
            "min_price_input",
            "min_price_output",
            "url",
        ]

    def to_representation(self, obj: Model | dict) -> dict:
        if isinstance(obj, dict):
            return self._from_row(obj)
        aliases = getattr(obj, "alias_names", None)
        if aliases is None:
            aliases = sorted(alias.alias for alias in obj.aliases.all())
        return {
            "slug": obj.slug,
            "name": obj.name,
            "creator": _ref(obj.creator),
            "family": _ref(obj.family),
            "status": obj.status,
            "release_date": _date(obj.release_date),
            "context_window": obj.context_window,
            "max_output": obj.max_output,
            "input_modalities": obj.input_modalities,
            "output_modalities": obj.output_modalities,
            "capabilities": obj.capabilities,
            "open_weights": obj.open_weights,
            "in_registry": obj.in_registry,
            "aliases": aliases,
            "providers_count": obj.providers_count,
            "min_price_input": _price(obj.min_price_input),
            "min_price_output": _price(obj.min_price_output),
            "url": _links(self).url("api-model-detail", obj.slug),
        }

    def _from_row(self, row: dict) -> dict:
        """The same body from a `selectors.model_list_rows` row (a dict: no model objects to build for a page)."""
        creator, family = row["creator__slug"], row["family__slug"]
        return {
            "slug": row["slug"],
            "name": row["name"],
            "creator": None if creator is None else {"slug": creator, "name": row["creator__name"]},
            "family": None if family is None else {"slug": family, "name": row["family__name"]},
            "status": row["status"],
            "release_date": _date(row["release_date"]),
            "context_window": row["context_window"],
            "max_output": row["max_output"],
            "input_modalities": row["input_modalities"],
            "output_modalities": row["output_modalities"],
            "capabilities": row["capabilities"],
            "open_weights": row["open_weights"],
            "in_registry": row["in_registry"],
            "aliases": row["alias_names"],
            "providers_count": row["providers_count"],
            "min_price_input": _price(row["min_price_input"]),
            "min_price_output": _price(row["min_price_output"]),
            "url": _links(self).url("api-model-detail", row["slug"]),
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


class MappingSerializer(serializers.ModelSerializer):
    provider = RefSerializer()
    price_input = serializers.DecimalField(**PRICE)
    price_output = serializers.DecimalField(**PRICE)
    price_cached_input = serializers.DecimalField(**PRICE)
    price_cache_write = serializers.DecimalField(**PRICE)
    delivery_modes = serializers.ListField(child=serializers.ChoiceField(choices=DeliveryMode.choices))
    status = serializers.ChoiceField(choices=Lifecycle.choices)

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
            "delivery_modes",
            "status",
            "in_registry",
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
            "delivery_modes": obj.delivery_modes,
            "status": obj.status,
            "in_registry": obj.in_registry,
        }


class CompareRowSerializer(serializers.Serializer):
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
    uptime = serializers.FloatField(allow_null=True, help_text="Share of successful probes (0–1); null until measured.")
    median_ttft_ms = serializers.FloatField(allow_null=True, help_text="Median time to first token, ms.")
    median_total_ms = serializers.FloatField(allow_null=True, help_text="Median total response time, ms.")
    score = serializers.FloatField(allow_null=True, help_text="Ranking score (higher is better); null until measured.")
    cheapest = serializers.BooleanField(help_text="The lowest blended price of this model's offers.")
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

    def to_representation(self, candidate) -> dict:
        model, confidence = candidate.model, candidate.confidence
        return {"slug": model.slug, "name": model.name, "confidence": confidence, "matched": candidate.matched}


class ModelSummarySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Lifecycle.choices)
    url = serializers.URLField()

    def to_representation(self, obj: Model) -> dict:
        url = _links(self).url("api-model-detail", obj.slug)
        return {"slug": obj.slug, "name": obj.name, "status": obj.status, "url": url}


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
