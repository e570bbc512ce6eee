"""The JSON Schemas accept exactly what the database columns keep: lengths, integer ranges and price digits."""

from __future__ import annotations

import copy

from catalog.models import Alias, Family, Mapping, Model, Provider
from registry.validation import fast_validators, schema_validators

MINIMAL = {
    "provider": {"slug": "p", "name": "P"},
    "family": {"families": [{"slug": "f", "name": "F", "creator": "p"}]},
    "model": {"slug": "m", "name": "M", "aliases": ["a", {"alias": "b", "provider": "p"}]},
    "mapping": {"model": "m", "offers": [{"provider_model_id": "x", "quantization": "fp8", "pricing": {"input": 1}}]},
}

# (kind, path to the value, the column that stores it)
STRING_COLUMNS = [
    ("provider", ("slug",), Provider._meta.get_field("slug")),
    ("provider", ("name",), Provider._meta.get_field("name")),
    ("family", ("families", 0, "slug"), Family._meta.get_field("slug")),
    ("family", ("families", 0, "name"), Family._meta.get_field("name")),
    ("family", ("families", 0, "creator"), Provider._meta.get_field("slug")),
    ("model", ("slug",), Model._meta.get_field("slug")),
    ("model", ("name",), Model._meta.get_field("name")),
    ("model", ("license",), Model._meta.get_field("license")),
    ("model", ("creator",), Provider._meta.get_field("slug")),
    ("model", ("family",), Family._meta.get_field("slug")),
    ("model", ("successor",), Model._meta.get_field("slug")),
    ("model", ("aliases", 0), Alias._meta.get_field("alias")),
    ("model", ("aliases", 1, "alias"), Alias._meta.get_field("alias")),
    ("model", ("aliases", 1, "provider"), Provider._meta.get_field("slug")),
    ("mapping", ("model",), Model._meta.get_field("slug")),
    ("mapping", ("offers", 0, "provider_model_id"), Mapping._meta.get_field("provider_model_id")),
    ("mapping", ("offers", 0, "quantization"), Mapping._meta.get_field("quantization")),
]
URL_COLUMNS = [
    ("provider", ("website",), Provider._meta.get_field("website")),
    ("provider", ("docs_url",), Provider._meta.get_field("docs_url")),
    ("provider", ("api_base_url",), Provider._meta.get_field("api_base_url")),
    ("model", ("canonical_url",), Model._meta.get_field("canonical_url")),
]
INTEGER_MAXIMA = {"PositiveIntegerField": 2147483647, "PositiveBigIntegerField": 9223372036854775807}
INTEGER_COLUMNS = [
    ("model", ("context_window",), Model._meta.get_field("context_window")),
    ("model", ("max_output",), Model._meta.get_field("max_output")),
    ("model", ("parameters_total",), Model._meta.get_field("parameters_total")),
    ("model", ("parameters_active",), Model._meta.get_field("parameters_active")),
    ("mapping", ("offers", 0, "context_window"), Mapping._meta.get_field("context_window")),
    ("mapping", ("offers", 0, "max_output"), Mapping._meta.get_field("max_output")),
]


def _document(kind: str, path: tuple, value) -> dict:
    document = copy.deepcopy(MINIMAL[kind])
    container = document
    for part in path[:-1]:
        container = container[part]
    container[path[-1]] = value
    return document


def _valid(kind: str, document: dict) -> bool:
    fast, explained = fast_validators()[kind].is_valid(document), schema_validators()[kind].is_valid(document)
    assert fast == explained, f"the two validators disagree on {document!r}"
    return fast


CONTROL_CHARACTERS = ["\x00", "\x1b", "\x7f", "\x9b", "\u202e", "\u2066"]
TEXT_FIELDS = [
    ("provider", ("name",)),
    ("family", ("families", 0, "name")),
    ("model", ("name",)),
    ("model", ("description",)),
    ("model", ("license",)),
    ("model", ("aliases", 0)),
    ("mapping", ("offers", 0, "provider_model_id")),
    ("mapping", ("offers", 0, "quantization")),
]


class TestSchemasMatchColumns:
    """Each test lists every mismatch, so one run shows all of them."""

    def test_every_string_is_at_most_its_column_length(self):
        mismatches = []
        for kind, path, column in STRING_COLUMNS + URL_COLUMNS:
            prefix = "https://example.com/" if (kind, path, column) in URL_COLUMNS else ""
            longest, too_long = (prefix + "a" * (n - len(prefix)) for n in (column.max_length, column.max_length + 1))
            if not _valid(kind, _document(kind, path, longest)) or _valid(kind, _document(kind, path, too_long)):
                mismatches.append((kind, path, column.max_length))
        assert mismatches == []
        # A registry file's relative path is recorded on every row it sets.
        provider, model = Provider._meta.get_field("slug").max_length, Model._meta.get_field("slug").max_length
        longest_path = len(f"mappings/{'p' * provider}/{'m' * model}.yaml")
        assert longest_path <= Mapping._meta.get_field("registry_file").max_length

    def test_every_number_stays_within_its_column_range(self):
        mismatches = []
        for kind, path, column in INTEGER_COLUMNS:
            maximum = INTEGER_MAXIMA[column.get_internal_type()]
            for value, accepted in ((maximum + 1, False), (float(maximum) * 10, False), (0, False), (1, True)):
                if _valid(kind, _document(kind, path, value)) != accepted:
                    mismatches.append((kind, path, value))
        for key in ("input", "output", "cached_input", "cache_write"):
            column = Mapping._meta.get_field(f"price_{key}")
            limit = 10 ** (column.max_digits - column.decimal_places)
            for value, accepted in ((limit - 0.000001, True), (limit, False)):
                if _valid("mapping", _document("mapping", ("offers", 0, "pricing", key), value)) != accepted:
                    mismatches.append(("mapping", key, value))
        assert _valid("model", _document("model", ("parameters_total",), 9223372036854775807))
        assert mismatches == []

    def test_no_control_or_bidi_character_in_any_text(self):
        accepted = [
            (kind, path, character)
            for kind, path in TEXT_FIELDS
            for character in CONTROL_CHARACTERS
            if _valid(kind, _document(kind, path, f"a{character}b"))
        ]
        assert accepted == []

    def test_description_alone_keeps_newlines_and_tabs(self):
        assert _valid("model", _document("model", ("description",), "line one\n\tline two"))
        assert not _valid("model", _document("model", ("name",), "line one\nline two"))
