"""Curator forms for the catalogue admin: JSON lists edited as checkboxes, and the reason given for a change."""

from __future__ import annotations

from django import forms

from catalog.lifecycle import successor_links, successor_refusal
from catalog.models import DeliveryMode, Mapping, Modality, Model, ModelCapability, Provider
from modelgraph.secrets import key_reference_error

# simple-history's `history_change_reason` column is a CharField(max_length=100).
CHANGE_REASON_MAX_LENGTH = 100


def change_reason_field() -> forms.CharField:
    """The required 'Reason for change' field a change form asks for; it ends up in the historical record."""
    return forms.CharField(
        label="Reason for change",
        max_length=CHANGE_REASON_MAX_LENGTH,
        required=True,
        help_text="Recorded in this row's history with your name, e.g. “context window per provider docs”.",
    )


class ChoiceListField(forms.MultipleChoiceField):
    """A JSON list of known values (modalities, capabilities, delivery modes) edited as checkboxes."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, choices, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(choices=choices, **kwargs)


class ChoiceListForm(forms.ModelForm):
    """Keeps values that are already stored but not (yet) in the enum, so saving a form never drops them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if not isinstance(field, ChoiceListField):
                continue
            known = {value for value, _label in field.choices}
            stored = getattr(self.instance, name, None) or []
            field.choices = [*field.choices, *((value, value) for value in stored if value not in known)]


class ModelAdminForm(ChoiceListForm):
    input_modalities = ChoiceListField(choices=Modality.choices)
    output_modalities = ChoiceListField(choices=Modality.choices)
    capabilities = ChoiceListField(choices=ModelCapability.choices)

    class Meta:
        model = Model
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose the fields shown

    def clean_successor(self) -> Model | None:
        """A successor is never the model itself nor a link that closes a loop (A → B → A)."""
        successor = self.cleaned_data.get("successor")
        if successor is None:
            return None
        if self.instance.pk is None:
            return successor  # a new model has no predecessors yet: no loop can close through it
        refusal = successor_refusal(self.instance.pk, successor.pk, successor_links())
        if refusal:
            raise forms.ValidationError(f"{successor.slug!r} cannot be the successor of this model: {refusal}.")
        return successor


class MappingAdminForm(ChoiceListForm):
    delivery_modes = ChoiceListField(choices=DeliveryMode.choices)

    class Meta:
        model = Mapping
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose the fields shown


class ProviderAdminForm(forms.ModelForm):
    """`api_key_env` takes exactly the reference forms the registry accepts (modelgraph.secrets)."""

    class Meta:
        model = Provider
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose the fields shown

    def clean_api_key_env(self) -> str:
        reference = (self.cleaned_data.get("api_key_env") or "").strip()
        error = key_reference_error(reference)
        if error:
            raise forms.ValidationError(error)
        return reference
