"""Routing's nouns: the capability tree, pools, runtime state of offers and providers, its events, the request log."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Mapping, Modality, ModelCapability, Provider
from catalog.models import Model as CatalogueModel
from modelgraph.hashed_keys import HashedKey


class Endpoint(models.TextChoices):
    CHAT = "chat", "Chat completions (/v1/chat/completions)"
    EMBEDDINGS = "embeddings", "Embeddings (/v1/embeddings)"


class ApiFamily(models.TextChoices):
    """The upstream API a provider speaks; the gateway translates requests and answers to and from it."""

    OPENAI = "openai", "OpenAI-compatible (chat completions)"
    ANTHROPIC = "anthropic", "Anthropic Messages"
    GEMINI = "gemini", "Google Gemini (generateContent)"


def _check_tags(value: list, allowed: list[str], field: str) -> None:
    if not isinstance(value, list) or any(tag not in allowed for tag in value):
        raise ValidationError({field: f"A list of: {', '.join(allowed)}."})


class Capability(models.Model):
    """A node of the capability tree: what an application may ask for instead of a model name.

    A catalogue model belongs to a node when it meets the node's requirements and those of every ancestor.
    """

    slug = models.SlugField(max_length=100, unique=True, help_text="What a request names as its `model`.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    endpoint = models.CharField(max_length=20, choices=Endpoint.choices, default=Endpoint.CHAT)
    catalogue_capabilities = models.JSONField(
        default=list, blank=True, help_text="Catalogue capabilities a member must have (all of them)."
    )
    excluded_capabilities = models.JSONField(
        default=list, blank=True, help_text="Catalogue capabilities a member must not have."
    )
    input_modalities = models.JSONField(default=list, blank=True, help_text="Inputs a member must accept (all).")
    output_modalities = models.JSONField(default=list, blank=True, help_text="Outputs a member must produce (all).")
    member_pattern = models.CharField(
        max_length=300, blank=True, help_text="Regular expression a member's slug or name must match (any case)."
    )
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, editable=False, help_text="Part of the default tree.")
    from_config = models.BooleanField(
        "from configuration",
        default=False,
        editable=False,
        help_text="Declared in the routing configuration (`manage.py routing_load`).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "capabilities"

    def __str__(self) -> str:
        return self.slug

    def clean(self) -> None:
        _check_tags(self.catalogue_capabilities, ModelCapability.values, "catalogue_capabilities")
        _check_tags(self.excluded_capabilities, ModelCapability.values, "excluded_capabilities")
        _check_tags(self.input_modalities, Modality.values, "input_modalities")
        _check_tags(self.output_modalities, Modality.values, "output_modalities")
        if self.member_pattern:
            try:
                re.compile(self.member_pattern)
            except re.error as exc:
                raise ValidationError({"member_pattern": f"Not a regular expression: {exc}."}) from None
        node, seen = self.parent, {self.pk}
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": "A capability cannot be its own ancestor."})
            seen.add(node.pk)
            node = node.parent


class Strategy(models.TextChoices):
    BEST_SCORE = "best_score", "Best telemetry score"
    CHEAPEST = "cheapest", "Cheapest"
    LOWEST_LATENCY = "lowest_latency", "Lowest latency"
    PRIORITY = "priority", "Priority list"
    ROUND_ROBIN = "round_robin", "Round-robin"
    STICKY = "stick_until_failure", "Stick until failure"


class RetryScope(models.TextChoices):
    SAME_PROVIDER = "same_provider", "Same provider as the first choice"
    SAME_MODEL = "same_model", "Same model as the first choice"
    ANY = "any", "Any member of the pool"


class Pool(models.Model):
    """The members of a capability that requests may be sent to, how one is chosen, retried and rotated."""

    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="pools")
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="When several pools serve a capability, the lowest number with a live member wins."
    )
    enabled = models.BooleanField(default=True)
    strategy = models.CharField(max_length=30, choices=Strategy.choices, default=Strategy.BEST_SCORE)
    members = models.ManyToManyField(
        CatalogueModel,
        blank=True,
        related_name="routing_pools",
        help_text="Only these models (each must still belong to the capability); empty: every member.",
    )
    include_providers = models.ManyToManyField(
        Provider, blank=True, related_name="routing_pools_included", help_text="Only these providers; empty: any."
    )
    exclude_providers = models.ManyToManyField(Provider, blank=True, related_name="routing_pools_excluded")
    priority_list = models.JSONField(
        default=list,
        blank=True,
        help_text='For the priority strategy: "model@provider", "model" or "@provider" entries, first is tried '
        "first; members not listed follow, cheapest first.",
    )
    # Rotation.
    failures_to_deactivate = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    error_rate_threshold = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text="Deactivate an offer whose share of failed requests over the window reaches this.",
    )
    error_window_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    error_min_requests = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1)], help_text="Fewer requests in the window: no error rate."
    )
    cooldown_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1)], help_text="Before a deactivated offer is probed again."
    )
    # Retries.
    max_attempts = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    max_total_seconds = models.FloatField(default=30.0, validators=[MinValueValidator(0.1)])
    backoff_base = models.FloatField(default=0.25, validators=[MinValueValidator(0.0)])
    backoff_max = models.FloatField(default=8.0, validators=[MinValueValidator(0.0)])
    retry_after_max = models.FloatField(
        default=30.0, help_text="A longer Retry-After takes that offer out of this request instead of waiting."
    )
    retry_scope = models.CharField(max_length=20, choices=RetryScope.choices, default=RetryScope.ANY)
    from_config = models.BooleanField(
        "from configuration",
        default=False,
        editable=False,
        help_text="Declared in the routing configuration (`manage.py routing_load`).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["capability__slug", "priority", "slug"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        entries = self.priority_list
        if not isinstance(entries, list) or not all(isinstance(e, str) and e.strip("@") for e in entries):
            raise ValidationError({"priority_list": 'A list of "model@provider", "model" or "@provider" strings.'})


class RouteStateValue(models.TextChoices):
    ACTIVE = "active", "Active"
    STANDBY = "standby", "Standby (held back by a curator)"
    DEACTIVATED = "deactivated", "Deactivated (failing; probed after the cooldown)"


class RouteState(models.Model):
    """Runtime state of one offer (mapping) or of one whole provider; no row means active."""

    mapping = models.OneToOneField(Mapping, null=True, blank=True, on_delete=models.CASCADE, related_name="route_state")
    provider = models.OneToOneField(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="route_state"
    )
    state = models.CharField(max_length=20, choices=RouteStateValue.choices, default=RouteStateValue.ACTIVE)
    reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failed_probes = models.PositiveIntegerField(default=0, help_text="Since the last recovery; doubles the cooldown.")
    cooldown_seconds = models.PositiveIntegerField(
        default=60, help_text="The cooldown of the pool that deactivated it."
    )
    deactivated_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mapping__isnull=True, provider__isnull=False)
                | Q(mapping__isnull=False, provider__isnull=True),
                name="routestate_mapping_xor_provider",
            ),
            models.CheckConstraint(condition=Q(state__in=RouteStateValue.values), name="routestate_state_valid"),
        ]
        indexes = [models.Index(fields=["state"], name="routestate_state_idx")]

    def __str__(self) -> str:
        return f"{self.subject}: {self.state}"

    @property
    def subject(self) -> str:
        if self.mapping_id:
            return f"{self.mapping.model.slug}@{self.mapping.provider.slug}"
        return f"provider {self.provider.slug}"


class EventKind(models.TextChoices):
    MODEL_DEACTIVATED = "model_deactivated", "Offer deactivated"
    MODEL_PROBE_FAILED = "model_probe_failed", "Offer probe failed"
    MODEL_RECOVERED = "model_recovered", "Offer recovered"
    PROVIDER_DEACTIVATED = "provider_deactivated", "Provider deactivated"
    PROVIDER_PROBE_FAILED = "provider_probe_failed", "Provider probe failed"
    PROVIDER_RECOVERED = "provider_recovered", "Provider recovered"
    STANDBY = "standby", "Put on standby"
    REACTIVATED = "reactivated", "Reactivated by a curator"
    COOLDOWN_ENDED = "cooldown_ended", "Cooldown ended by a curator"


class RoutingEvent(models.Model):
    """Every change of a route state, automatic or by hand."""

    kind = models.CharField(max_length=30, choices=EventKind.choices)
    state = models.ForeignKey(RouteState, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    mapping = models.ForeignKey(Mapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    CLIENT_ERROR = "client_error", "Client error"
    UPSTREAM_ERROR = "upstream_error", "Every attempt failed"
    UNAVAILABLE = "unavailable", "No live member"
    STREAM_ERROR = "stream_error", "Stream failed after the first chunk"
    CANCELLED = "cancelled", "Client went away"


class RequestLog(models.Model):
    """One gateway request: what was asked, where it went, how long it took, what it cost."""

    at = models.DateTimeField(default=timezone.now)
    requested = models.CharField(max_length=300, help_text="The `model` of the request.")
    capability = models.ForeignKey(Capability, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")
    mapping = models.ForeignKey(Mapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    stream = models.BooleanField(default=False)
    status = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    attempt_log = models.JSONField(default=list, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    ttft_ms = models.FloatField(null=True, blank=True, help_text="Streaming: until the first chunk was sent.")
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=16, decimal_places=8, null=True, blank=True, help_text="USD.")
    error = models.CharField(max_length=500, blank=True)
    request_id = models.CharField(
        max_length=100, blank=True, help_text="The X-Request-Id it came with, or the one it was given."
    )

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["at"], name="requestlog_at_idx"),
            models.Index(fields=["pool", "at"], name="requestlog_pool_at_idx"),
            models.Index(fields=["mapping", "at"], name="requestlog_mapping_at_idx"),
            models.Index(fields=["outcome", "at"], name="requestlog_outcome_at_idx"),
            models.Index(fields=["request_id"], name="requestlog_request_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.requested} → {self.status}"


class GatewayKey(HashedKey):
    """A bearer key for /v1/; only its SHA-256 is stored, the key is shown once when issued.

    Its scopes and limits (routing.key_limits): the capabilities and models it may ask for (none named: all), requests
    per minute, tokens per UTC day and a spend budget in USD (empty: no limit)."""

    PREFIX = "mg_gw_"
    SHOWN = 6

    name = models.CharField(max_length=100, help_text="Who or what uses it, e.g. “search backend”.")
    prefix = models.CharField(max_length=16, db_index=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    allowed_capabilities = models.ManyToManyField(
        Capability,
        blank=True,
        related_name="+",
        help_text="Capabilities it may name, and the models they route to; none here and no model: everything.",
    )
    allowed_models = models.ManyToManyField(
        CatalogueModel,
        blank=True,
        related_name="gateway_keys",  # a merge of two models moves it (ingestion/curation_api/merge.py)
        help_text="Models it may name (at any provider).",
    )
    requests_per_minute = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Over any 60 seconds; empty: no limit."
    )
    tokens_per_day = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Prompt and completion tokens per UTC day; empty: no limit.",
    )
    budget_usd = models.DecimalField(
        max_digits=14,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Total spend allowed, at the catalogue's prices of the offers that answered; empty: no limit.",
    )

    class Meta(HashedKey.Meta):
        verbose_name = "gateway key"
        constraints = [
            models.CheckConstraint(
                condition=Q(requests_per_minute__isnull=True) | Q(requests_per_minute__gte=1),
                name="gatewaykey_rpm_positive",
            ),
            models.CheckConstraint(
                condition=Q(tokens_per_day__isnull=True) | Q(tokens_per_day__gte=1), name="gatewaykey_tpd_positive"
            ),
            models.CheckConstraint(
                condition=Q(budget_usd__isnull=True) | Q(budget_usd__gte=0), name="gatewaykey_budget_not_negative"
            ),
        ]


class GatewayKeyUsage(models.Model):
    """What one gateway key used on one UTC day; written in batches off the hot path (routing.key_usage)."""

    key = models.ForeignKey(GatewayKey, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    requests = models.PositiveIntegerField(default=0, help_text="Every request made with the key, refused ones too.")
    refused = models.PositiveIntegerField(default=0, help_text="Refused by the key's scopes or limits (403, 429).")
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    spend_usd = models.DecimalField(max_digits=18, decimal_places=9, default=0)
    unpriced = models.PositiveIntegerField(
        default=0, help_text="Answers that used tokens at an offer with no catalogue price: not in spend."
    )

    class Meta:
        ordering = ["-day", "key_id"]
        verbose_name_plural = "gateway key usage"
        constraints = [models.UniqueConstraint(fields=["key", "day"], name="gatewaykeyusage_key_day_unique")]

    def __str__(self) -> str:
        return f"{self.key_id} on {self.day}"


class ProviderConnector(models.Model):
    """Which upstream API a provider speaks, when it is not plain OpenAI-compatible (the catalogue only says
    `openai_compatible`). Without a row, a provider whose API base URL is Anthropic's or Google's own speaks that
    API (routing.connectors), any other OpenAI-compatible provider OpenAI's."""

    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, related_name="connector")
    api = models.CharField(max_length=20, choices=ApiFamily.choices, default=ApiFamily.OPENAI)
    base_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Overrides the provider's API base URL; empty: the provider's, else the API's public one.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider__slug"]
        constraints = [
            models.CheckConstraint(condition=Q(api__in=ApiFamily.values), name="providerconnector_api_valid")
        ]

    def __str__(self) -> str:
        return f"{self.provider.slug}: {self.get_api_display()}"


# Declared in their own modules, registered with the app here.
from routing.batch_models import BatchStatus, FilePurpose, GatewayBatch, GatewayFile  # noqa: E402, F401
from routing.config.records import ConfigurationLoad  # noqa: E402, F401
