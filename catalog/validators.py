"""Slugs are checked by one rule everywhere: the registry schema's (`registry/schemas/common.schema.json`).

The pattern is copied here once (the catalogue sits below the registry and cannot import it);
tests/admin/test_slugs.py asserts it equals the schema's `provider_slug`, `family_slug` and `model_slug` patterns.
Dots are allowed (`gpt-4.1`, `llama-3.3-70b-instruct`), unlike Django's `SlugField`.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

SLUG_PATTERN = "^[a-z0-9][a-z0-9._-]*$"
_SLUG = re.compile(SLUG_PATTERN)


def slug_problem(value: object) -> str | None:
    """Why `value` is not a slug, in the words of the registry's schema check (jsonschema), or None if it is one."""
    if not isinstance(value, str):
        return f"{value!r} is not of type 'string'"
    # The schema also refuses a newline anywhere ("not": {"pattern": "\\n"}); `$` alone would accept one at the end.
    if "\n" in value or not _SLUG.search(value):
        return f"{value!r} does not match {SLUG_PATTERN!r}"
    return None


@deconstructible
class SlugValidator:
    """The registry schema's slug rule as a Django validator (model fields, admin forms, API parameters)."""

    message = (
        "Enter a valid slug: lowercase letters, digits, dots, hyphens and underscores, starting with a letter or digit"
    )
    code = "invalid_slug"

    def __call__(self, value: object) -> None:
        problem = slug_problem(value)
        if problem is not None:
            raise ValidationError(f"{self.message} ({problem}).", code=self.code, params={"value": value})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlugValidator)

    def __hash__(self) -> int:
        return hash(SLUG_PATTERN)


validate_slug = SlugValidator()
