"""How far an offer's prices are confirmed, as the API shows it: `prices_checked` and a compact `verification`
object per price field, read from Mapping.provenance (written by the price resolution, ingestion/prices/apply.py)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Mapping

VERIFIED_FIELDS = (*Mapping.PRICE_FIELDS, "price_tiers", "billing")
VERIFICATION_FIELDS = ["prices_checked", "verification"]


FIELD_VERIFICATION_SCHEMA = {
    "type": "object",
    "properties": {
        "source": {"type": ["string", "null"], "description": "The source whose value is shown."},
        "verified_by": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Independent sources that agree with the shown value.",
        },
        "disputed": {"type": "boolean", "description": "Some source states a different value (a curator will look)."},
    },
    "required": ["source", "verified_by", "disputed"],
}


@extend_schema_field(
    {
        "type": "object",
        "description": "Per price field (`price_input`, …, `billing`) that a source has confirmed or disputed: which "
        "source set it, which sources agree, and whether one disagrees. Fields no source has spoken about are left "
        "out.",
        "additionalProperties": FIELD_VERIFICATION_SCHEMA,
    }
)
class VerificationField(serializers.DictField):
    pass


class OfferVerificationFields(serializers.Serializer):
    """Declared fields (documentation) of the verification part of an offer body; `offer_verification` builds it."""

    prices_checked = serializers.DateTimeField(
        allow_null=True, read_only=True, help_text="When a source last confirmed this offer's prices."
    )
    verification = VerificationField(read_only=True)


def offer_verification(mapping: Mapping) -> dict:
    provenance = mapping.provenance or {}
    verification = {}
    for field in VERIFIED_FIELDS:
        entry = provenance.get(field)
        if not isinstance(entry, dict):
            continue
        verification[field] = {
            "source": entry.get("source"),
            "verified_by": sorted(str(source) for source in entry.get("verified_by") or []),
            "disputed": bool(entry.get("disputed")),
        }
    checked = mapping.prices_checked
    return {"prices_checked": None if checked is None else checked.isoformat(), "verification": verification}
