"""Query parameters of the model list: one FilterSet; a bad value is a 400 naming its parameter."""

from __future__ import annotations

import copy
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

import django_filters
from django import forms
from django.db.models import F
from django_filters.constants import EMPTY_VALUES

from catalog.models import Lifecycle, Modality, Model, ModelCapability
from catalog.search import MAX_TERM_LENGTH, model_search
from modelgraph.api.filtersets import APIFilterSet, documented

MAX_INT = 2**31 - 1
# Prices are stored with 6 decimals below 10^8 (Mapping.price_*): "at most x" is exactly "at most x rounded down to
# 6 decimals", and any x above the largest storable price bounds nothing more than that price does.
PRICE_STEP = Decimal("0.000001")
MAX_STORED_PRICE = Decimal("99999999.999999")
PRICE_SCHEMA = {"type": "number", "minimum": 0}
REVIEW_STATES = ("reviewed", "needs_review", "all")


class PriceField(forms.Field):
    """Any finite non-negative number (`0.15`, `1e-7`, `1e300`), as the Decimal that compares the same way with every
    stored price."""

    def to_python(self, value):
        if value in EMPTY_VALUES:
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise forms.ValidationError(f"A number is required, got {str(value)[:40]!r}.") from None
        if not number.is_finite() or number < 0:
            raise forms.ValidationError(f"A finite number of at least 0 is required, got {str(value)[:40]!r}.")
        return min(number, MAX_STORED_PRICE).quantize(PRICE_STEP, rounding=ROUND_FLOOR)


class PriceFilter(django_filters.Filter):
    field_class = PriceField


class BooleanChoiceFilter(django_filters.ChoiceFilter):
    """`true` or `false`, nothing else (django-filter's boolean silently ignores a typo)."""

    def __init__(self, *args, **kwargs):
        kwargs["choices"] = [("true", "true"), ("false", "false")]
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(**{self.field_name: value == "true"})


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """Ordering where missing values (no release date, no price) sort last either way; slug breaks ties."""

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        ordering = []
        for param in value:
            if param in EMPTY_VALUES:
                continue
            field = self.get_ordering_value(param)
            expression = F(field.lstrip("-"))
            descending = field.startswith("-")
            ordering.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
        return qs.order_by(*ordering, "slug")


BILLING_SCOPES = [("pay_per_use", "Pay per use"), ("all", "All, with free tiers and plans")]


class ModelFilterSet(APIFilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=MAX_TERM_LENGTH,
        help_text="Words or part of a name, slug or alias; results are ranked best first unless `ordering` is given.",
    )
    provider = django_filters.CharFilter(method="filter_provider", help_text="Slug of a provider that serves it.")
    family = django_filters.CharFilter(field_name="family__slug", help_text="Family slug.")
    creator = django_filters.CharFilter(field_name="creator__slug", help_text="Slug of the lab that created it.")
    status = django_filters.ChoiceFilter(choices=Lifecycle.choices, help_text="Lifecycle status.")
    capability = django_filters.MultipleChoiceFilter(
        choices=ModelCapability.choices,
        method="filter_capability",
        help_text="A capability it must have; repeat the parameter to require several.",
    )
    input_modality = django_filters.ChoiceFilter(
        choices=Modality.choices, method="filter_input_modality", help_text="An input modality it accepts."
    )
    output_modality = django_filters.ChoiceFilter(
        choices=Modality.choices, method="filter_output_modality", help_text="An output modality it produces."
    )
    open_weights = documented(
        {"type": "boolean"},
        BooleanChoiceFilter(field_name="open_weights", help_text="Whether its weights are published."),
    )
    in_registry = documented(
        {"type": "boolean"},
        BooleanChoiceFilter(field_name="in_registry", help_text="Whether it is in the YAML registry (default: both)."),
    )
    review = django_filters.ChoiceFilter(
        choices=[(state, state) for state in REVIEW_STATES],
        method="filter_review",
        help_text="`reviewed` (default): hide models ingestion created from ids nothing matched until a curator has "
        "reviewed them; `needs_review`: only those (each is marked `needs_review: true`); `all`: both.",
    )
    min_context = documented(
        {"type": "integer", "minimum": 0, "maximum": MAX_INT},
        IntegerFilter(
            field_name="context_window",
            lookup_expr="gte",
            min_value=0,
            max_value=MAX_INT,
            help_text="Smallest acceptable context window, in tokens.",
        ),
    )
    billing = django_filters.ChoiceFilter(
        choices=BILLING_SCOPES,
        method="filter_billing",
        help_text="`pay_per_use` (default): `min_price_*`, the price bounds and `ordering=price` consider only offers "
        "billed per token or per request; `all`: free tiers and subscription plans too (their $0 is not a price per "
        "use).",
    )
    max_price_input = documented(
        PRICE_SCHEMA,
        PriceFilter(
            method="filter_max_price_input",
            help_text="Some provider charges at most this per million input tokens (USD).",
        ),
    )
    max_price_output = documented(
        PRICE_SCHEMA,
        PriceFilter(
            method="filter_max_price_output",
            help_text="Some provider charges at most this per million output tokens (USD).",
        ),
    )
    released_after = django_filters.DateFilter(
        field_name="release_date", lookup_expr="gte", help_text="Released on or after this date (YYYY-MM-DD)."
    )
    released_before = django_filters.DateFilter(
        field_name="release_date", lookup_expr="lte", help_text="Released on or before this date (YYYY-MM-DD)."
    )
    ordering = NullsLastOrderingFilter(
        fields=(
            ("slug", "slug"),
            ("name", "name"),
            ("release_date", "release_date"),
            ("context_window", "context_window"),
            ("min_price_input", "price"),
        ),
        help_text="Sort by `name`, `release_date`, `context_window`, `price` (cheapest pay-per-use input price "
        "unless `billing=all`) or `slug`; "
        "prefix `-` for descending; several separated by commas.",
    )

    class Meta:
        model = Model
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # django-filter deep-copies every filter (choices and all) per request: ~5 ms on this set. The filters are
        # never mutated beyond `model`/`parent`, so a shallow copy each is enough.
        base_filters, self.base_filters = self.base_filters, {}
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.base_filters = base_filters
        self.filters = {name: copy.copy(filter_) for name, filter_ in base_filters.items()}
        for filter_ in self.filters.values():
            # Its own `extra` too: a subclass that edits a filter's help text or widget (the web form does) must not
            # change the class's filter, which the OpenAPI document is generated from.
            filter_.extra = dict(filter_.extra)
            # …and never the class filter's built form field (the OpenAPI generator builds those): a copy builds its
            # own, so the page's labels and widgets are not the API's, nor another request's.
            filter_.__dict__.pop("_field", None)
            filter_.model = self.queryset.model
            filter_.parent = self
            if filter_.method is not None:
                filter_.method = filter_.method  # re-binds its FilterMethod to this copy

    @property
    def qs(self):
        if not self.is_bound and not hasattr(self, "_qs"):  # an unbound set (a page with no query) filters nothing
            self._qs = self.filter_review(self.queryset.all(), "review", "reviewed")
        return super().qs

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("review"):
            queryset = self.filter_review(queryset, "review", "reviewed")  # unreviewed rows are opt-in
        return queryset

    def filter_review(self, queryset, name, value):
        if value == "all":
            return queryset
        return queryset.filter(needs_review=value == "needs_review")

    def filter_search(self, queryset, name, value):
        return model_search(queryset, value)

    def filter_provider(self, queryset, name, value):
        return queryset.served_by(value)

    def filter_capability(self, queryset, name, values):
        for value in values:
            queryset = queryset.with_capability(value)
        return queryset

    def filter_input_modality(self, queryset, name, value):
        return queryset.with_input_modality(value)

    def filter_output_modality(self, queryset, name, value):
        return queryset.with_output_modality(value)

    @property
    def include_plans(self) -> bool:
        return self.form.cleaned_data.get("billing") == "all"

    def filter_billing(self, queryset, name, value):
        # The list's queryset carries the pay-per-use summary; `all` recomputes it over every offer.
        return queryset.with_offer_summary(include_plans=True) if value == "all" else queryset

    def filter_max_price_input(self, queryset, name, value):
        # Both bounds apply to the same offer: one provider must be cheap enough on input and on output.
        return queryset.priced_at_most(
            price_input=value,
            price_output=self.form.cleaned_data.get("max_price_output"),
            include_plans=self.include_plans,
        )

    def filter_max_price_output(self, queryset, name, value):
        if self.form.cleaned_data.get("max_price_input") is not None:
            return queryset  # applied together with max_price_input
        return queryset.priced_at_most(price_output=value, include_plans=self.include_plans)
