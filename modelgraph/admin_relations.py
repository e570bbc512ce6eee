"""Admin relation fields that answer a hostile form post with a form error, never a 500.

Two places in Django's admin queried with whatever id was posted: the autocomplete widgets, which look up the
posted ids to show what was selected when a form comes back with its errors (`1e400` or `abc` raised there, in the
template, after the form had already said "Select a valid choice"), and a many-to-many field's check of its ids
(40 nines overflowed the database driver). Here both ask the database only for ids the key column can hold; any
other id is the field's own form error. `SafeRelationsAdmin` puts them on a ModelAdmin or inline.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError


def holdable(target, item) -> bool:
    """Whether `item` is a value the key column `target` can hold (type, range, no NUL), so a query may be asked."""
    if isinstance(item, str) and "\x00" in item:  # PostgreSQL can neither store nor compare a NUL
        return False
    try:
        target.run_validators(target.to_python(item))
    except (ValidationError, TypeError, ValueError):
        return False
    return True


class _HoldableIdsOnly:
    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, self._holdable(value), attr)

    def _holdable(self, value: list) -> list:
        remote = self.field.remote_field
        meta = remote.model._meta
        to_field = getattr(remote, "field_name", None)
        target = meta.get_field(to_field) if to_field else meta.pk
        empty = self.choices.field.empty_values
        return [item for item in value if item not in empty and str(item) not in empty and holdable(target, item)]


class HoldableAutocompleteSelect(_HoldableIdsOnly, AutocompleteSelect):
    pass


class HoldableAutocompleteSelectMultiple(_HoldableIdsOnly, AutocompleteSelectMultiple):
    pass


class HoldableModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A many-to-many choice that refuses an id its column cannot hold as "not a valid value" before querying
    (40 nines: an integer overflow in the database driver, a 500, where a wrong id gives the form error)."""

    def _check_values(self, value):
        target = (
            self.queryset.model._meta.get_field(self.to_field_name)
            if self.to_field_name
            else self.queryset.model._meta.pk
        )
        for item in value:
            if not holdable(target, item):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": item}
                )
        return super()._check_values(value)


class SafeRelationsAdmin:
    """For a ModelAdmin or inline: Django's autocomplete widgets and many-to-many fields replaced by the ones above."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = HoldableAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", HoldableModelMultipleChoiceField)
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = HoldableAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)
