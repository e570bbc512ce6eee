"""The model list page's form: the API's ModelFilterSet with pickers instead of free-text slugs and human labels."""

from __future__ import annotations

import django_filters
from django import forms

from catalog.filtersets import ModelFilterSet, NullsLastOrderingFilter
from catalog.models import ModelCapability
from web import selectors
from web.widgets import QuickSelect

CONTEXT_PRESETS = (8_000, 32_000, 128_000, 200_000, 1_000_000)
LABELS = {
    "search": "Name or alias",
    "status": "Status",
    "input_modality": "Accepts",
    "output_modality": "Produces",
    "open_weights": "Open weights",
    "min_context": "Context at least",
    "max_price_input": "Input price at most ($/M tokens)",
    "max_price_output": "Output price at most ($/M tokens)",
    "review": "Review state",
}
# The columns the list sorts by (parameter value → queryset field); headers link to `?ordering=<value>`.
ORDERING_FIELDS = (
    ("name", "name"),
    ("release_date", "release_date"),
    ("context_window", "context_window"),
    ("min_price_input", "price"),
    ("min_price_output", "output_price"),
    ("providers_count", "providers"),
    ("slug", "slug"),
)


class ModelPageFilterSet(ModelFilterSet):
    empty_values_allowed = True  # the form submits its unused fields empty
    provider = django_filters.ChoiceFilter(
        label="Provider",
        choices=selectors.serving_provider_choices,
        method="filter_provider",
        empty_label="Any",
        widget=QuickSelect,
    )
    family = django_filters.ChoiceFilter(
        label="Family",
        choices=selectors.family_choices,
        field_name="family__slug",
        empty_label="Any",
        widget=QuickSelect,
    )
    capability = django_filters.MultipleChoiceFilter(
        label="Capabilities",
        choices=ModelCapability.choices,
        method="filter_capability",
        widget=forms.CheckboxSelectMultiple,
    )
    ordering = NullsLastOrderingFilter(fields=ORDERING_FIELDS)

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        # Read once per request (a callable would run its query again each time the choices are iterated).
        self.filters["provider"].extra["choices"] = selectors.serving_provider_choices()
        self.filters["family"].extra["choices"] = selectors.family_choices()
        for name, label in LABELS.items():
            self.filters[name].label = label
            self.filters[name].extra.pop("help_text", None)
        for name in ("status", "input_modality", "output_modality"):
            self.filters[name].extra.update(empty_label="Any", widget=QuickSelect)
        self.filters["review"].extra.update(
            choices=[("needs_review", "Unreviewed only"), ("all", "Reviewed and unreviewed")],
            empty_label="Reviewed only",
            widget=QuickSelect,
        )
        self.filters["open_weights"].extra.update(
            choices=[("true", "Yes"), ("false", "No")], empty_label="Any", widget=QuickSelect
        )
        self.filters["billing"].label = "Billing"
        self.filters["billing"].extra.update(
            choices=[("all", "With free tiers and plans")], empty_label="Pay per use only", widget=QuickSelect
        )
        self.filters["min_context"].extra["widget"] = QuickSelect(choices=self._context_choices(data))
        for name in ("max_price_input", "max_price_output"):
            attrs = {"step": "any", "min": "0", "placeholder": "e.g. 1.00", "inputmode": "decimal"}
            self.filters[name].extra["widget"] = forms.NumberInput(attrs=attrs)
        self.filters["search"].extra["widget"] = forms.TextInput(attrs={"type": "search", "autocomplete": "off"})

    @staticmethod
    def _context_choices(data) -> list[tuple[str, str]]:
        """Presets, plus the value a shared URL carries when it is not one of them (so the form shows it)."""
        values = set(CONTEXT_PRESETS)
        current = (data or {}).get("min_context", "")
        if current.isascii() and current.isdigit():  # not "²": str.isdigit() takes it, int() does not
            values.add(int(current))
        return [("", "Any")] + [(str(v), f"{v:,} tokens") for v in sorted(values)]

    @property
    def active(self) -> dict[str, object]:
        """The filters a valid form applies, for the "n models match" line and the reset link."""
        if not self.is_bound or not hasattr(self.form, "cleaned_data"):
            return {}
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "", []) and k != "ordering"}

    def describe(self) -> str:
        """The active filters in words ("Capabilities: Reasoning; Provider: Groq"), for the page title."""
        parts = []
        for name, value in self.active.items():
            field = self.form.fields[name]
            choices = getattr(field, "choices", None) or getattr(field.widget, "choices", [])
            labels = {str(k): v for k, v in choices}
            values = value if isinstance(value, list) else [value]
            parts.append(f"{field.label}: {', '.join(str(labels.get(str(v), v)) for v in values)}")
        return "; ".join(parts)
