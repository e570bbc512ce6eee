"""Request and answer shapes of the curation API and the work queue (OpenAPI-documented through these)."""

from __future__ import annotations

from rest_framework import serializers

from catalog.models import Lifecycle
from ingestion.curation_api.review import REVIEW_KINDS

REASON_HELP = "Why: kept as the change reason in the history, with the key's owner as the actor. Required."


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text=REASON_HELP)


class AliasAddSerializer(ReasonSerializer):
    alias = serializers.CharField(max_length=300, help_text="The new name.")
    model = serializers.CharField(max_length=150, help_text="Slug of the model it names.")
    provider = serializers.CharField(
        max_length=100, required=False, allow_null=True, help_text="Slug of the provider it is scoped to (optional)."
    )


class CuratedAliasSerializer(serializers.Serializer):
    alias = serializers.CharField()
    model = serializers.CharField(source="model.slug")
    provider = serializers.CharField(source="provider.slug", allow_null=True, default=None)
    pinned = serializers.BooleanField(default=True)


class PinSetSerializer(ReasonSerializer):
    field = serializers.CharField(max_length=50, help_text="The field to pin (see the endpoint's description).")
    value = serializers.JSONField(
        allow_null=True,
        help_text="The value in registry terms: days as YYYY-MM-DD, the successor as a model slug, prices as USD per "
        "million tokens (a number or a decimal string), lists as JSON arrays; null pins the field empty.",
    )


class PinAnswerSerializer(serializers.Serializer):
    field = serializers.CharField()
    pinned = serializers.BooleanField()
    value = serializers.JSONField(allow_null=True, help_text="The value now shown.")
    reason = serializers.CharField()


class ModelLifecycleSerializer(ReasonSerializer):
    status = serializers.ChoiceField(choices=Lifecycle.choices)
    deprecation_date = serializers.DateField(required=False, allow_null=True)
    sunset_date = serializers.DateField(required=False, allow_null=True)
    successor = serializers.CharField(required=False, allow_null=True, help_text="Slug of the successor model.")


class OfferLifecycleSerializer(ReasonSerializer):
    status = serializers.ChoiceField(choices=Lifecycle.choices)
    retirement_date = serializers.DateField(required=False, allow_null=True)


class LifecycleAnswerSerializer(serializers.Serializer):
    status = serializers.CharField()
    deprecation_date = serializers.DateField(required=False, allow_null=True)
    sunset_date = serializers.DateField(required=False, allow_null=True)
    successor = serializers.CharField(required=False, allow_null=True)
    retirement_date = serializers.DateField(required=False, allow_null=True)


class MergeSerializer(ReasonSerializer):
    target = serializers.CharField(max_length=150, help_text="Slug of the model that stays.")


class MergeAnswerSerializer(serializers.Serializer):
    merged = serializers.CharField(help_text="The slug merged away: now an alias of the target.")
    target = serializers.CharField()
    aliases = serializers.IntegerField()
    offers = serializers.IntegerField()
    successor_links = serializers.IntegerField()
    memberships = serializers.IntegerField()


class ReviewQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=REVIEW_KINDS, required=False, help_text="Only items of this kind.")


class ReviewActionSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="POST: an admin-API call; GET: an admin page to open.")
    url = serializers.CharField()
    description = serializers.CharField()
    body = serializers.JSONField(allow_null=True, help_text="The call's body; fill in the <…> parts.")


class ReviewSubjectSerializer(serializers.Serializer):
    model = serializers.CharField(allow_null=True)
    provider = serializers.CharField(allow_null=True)
    offer = serializers.IntegerField(allow_null=True)
    admin_url = serializers.CharField()


class ReviewItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=REVIEW_KINDS)
    subject = ReviewSubjectSerializer()
    description = serializers.CharField()
    action = ReviewActionSerializer()
    details = serializers.JSONField()
