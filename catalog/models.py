"""The catalogue's nouns: providers, families, canonical models, aliases and mappings (offers with pricing)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from catalog.querysets import AliasQuerySet, MappingQuerySet, ModelQuerySet, ProviderQuerySet
from catalog.validators import SLUG_PATTERN, validate_slug

SLUG_REGEX = SLUG_PATTERN  # the registry schema's rule (catalog/validators.py)


class Lifecycle(models.TextChoices):
    ACTIVE = "active", "Active"
    PREVIEW = "preview", "Preview"
    DEPRECATED = "deprecated", "Deprecated"
    RETIRED = "retired", "Retired"


class Modality(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"
    PDF = "pdf", "PDF"


class ModelCapability(models.TextChoices):
    TOOLS = "tools", "Tool calling"
    REASONING = "reasoning", "Reasoning"
    VISION = "vision", "Vision"
    STRUCTURED_OUTPUT = "structured_output", "Structured output"
    ATTACHMENTS = "attachments", "Attachments"
    TEMPERATURE = "temperature", "Temperature control"
    EMBEDDINGS = "embeddings", "Embeddings"
    AUDIO = "audio", "Audio"


class DeliveryMode(models.TextChoices):
    SYNC = "sync", "Synchronous"
    STREAMING = "streaming", "Streaming"
    BATCH = "batch", "Batch"


class Billing(models.TextChoices):
    """How an offer is paid for: only pay-per-use offers compete for "cheapest"; plans and free tiers stand apart."""

    PER_TOKEN = "per_token", "Per token"
    PER_REQUEST = "per_request", "Per request"
    FREE_TIER = "free_tier", "Free tier"
    SUBSCRIPTION = "subscription", "Subscription plan"
    UNKNOWN = "unknown", "Unknown"


PAY_PER_USE = (Billing.PER_TOKEN, Billing.PER_REQUEST)


class ProviderKind(models.TextChoices):
    INFERENCE = "inference", "Serves models"
    LAB = "lab", "Creates models"
    BOTH = "both", "Creates and serves models"


class RegistryTracked(models.Model):
    """Fields every registry-loaded row carries: whether it is still in the registry and where it came from."""

    in_registry = models.BooleanField(default=True, db_index=True)
    registry_file = models.CharField(max_length=300, blank=True, help_text="Registry file that last set this row.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def _status_check(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(status__in=Lifecycle.values), name=f"{name}_status_valid")


class Provider(RegistryTracked):
    slug = models.CharField(max_length=100, unique=True, db_index=True, validators=[validate_slug])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ProviderKind.choices, default=ProviderKind.INFERENCE)
    website = models.URLField(max_length=500, blank=True)
    docs_url = models.URLField(max_length=500, blank=True)
    api_base_url = models.URLField(max_length=500, blank=True)
    # A secret reference (the name of an environment variable), never the key itself.
    api_key_env = models.CharField(max_length=200, blank=True)
    openai_compatible = models.BooleanField(default=False)

    # History rows are read by object (id), by date and, for aliases and offers, by model: the other indexes a
    # history table would inherit from its model only slow every load's history writes (about a third of them).
    history = HistoricalRecords(no_db_index=["in_registry"])
    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=ProviderKind.values), name="provider_kind_valid")]

    def __str__(self) -> str:
        return self.name


class Family(RegistryTracked):
    slug = models.CharField(max_length=100, unique=True, db_index=True, validators=[validate_slug])
    name = models.CharField(max_length=200)
    creator = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="families")

    history = HistoricalRecords(no_db_index=["in_registry", "creator"])

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "families"

    def __str__(self) -> str:
        return self.name


class Model(RegistryTracked):
    """A canonical model: one row per model whatever the provider that serves it."""

    slug = models.CharField(max_length=150, unique=True, db_index=True, validators=[validate_slug])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    creator = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="created_models"
    )
    family = models.ForeignKey(Family, null=True, blank=True, on_delete=models.SET_NULL, related_name="models")
    release_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    deprecation_date = models.DateField(null=True, blank=True)
    sunset_date = models.DateField(null=True, blank=True)
    successor = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="predecessors")
    context_window = models.PositiveIntegerField(null=True, blank=True)
    max_output = models.PositiveIntegerField(null=True, blank=True)
    input_modalities = models.JSONField(default=list, blank=True)
    output_modalities = models.JSONField(default=list, blank=True)
    capabilities = models.JSONField(default=list, blank=True)
    open_weights = models.BooleanField(default=False)
    parameters_total = models.PositiveBigIntegerField(null=True, blank=True)
    parameters_active = models.PositiveBigIntegerField(null=True, blank=True)
    license = models.CharField(max_length=200, blank=True)
    knowledge_cutoff = models.CharField(max_length=10, blank=True, help_text="YYYY-MM or YYYY-MM-DD")
    canonical_url = models.URLField(max_length=500, blank=True)
    needs_review = models.BooleanField(default=False, help_text="Created by ingestion from an id nothing matched.")
    # What the registry file states (the manual tier) and, per shown field, which source won and when.
    registry_values = models.JSONField(default=dict, blank=True, editable=False)
    provenance = models.JSONField(default=dict, blank=True, editable=False)

    history = HistoricalRecords(no_db_index=["in_registry", "family", "successor", "creator"])
    objects = ModelQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]
        constraints = [
            _status_check("model"),
            models.CheckConstraint(
                condition=Q(parameters_active__isnull=True)
                | Q(parameters_total__isnull=True)
                | Q(parameters_active__lte=models.F("parameters_total")),
                name="model_active_params_le_total",
            ),
            models.CheckConstraint(condition=~Q(successor=models.F("pk")), name="model_successor_not_self"),
        ]
        indexes = [
            models.Index(fields=["status"], name="model_status_idx"),
            models.Index(fields=["release_date"], name="model_release_idx"),
            models.Index(fields=["context_window"], name="model_context_idx"),
            models.Index(fields=["open_weights"], name="model_open_weights_idx"),
            models.Index(fields=["name"], name="model_name_idx"),
            models.Index(fields=["needs_review"], name="model_needs_review_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ModelListRow(models.Model):
    """The model list's row of one model, rendered once per change (catalog/list_rows.py): its JSON body without the
    `url` (which depends on the request's host), so the unfiltered list reads stored text instead of aggregating the
    offers and aliases of every model on the page. `creator` and `family` say which provider and family renames
    change it."""

    model = models.OneToOneField(Model, primary_key=True, on_delete=models.CASCADE, related_name="list_row")
    # Kept after the provider or family is deleted (no constraint): the refresh of a deleted one still finds its rows.
    creator = models.ForeignKey(Provider, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    family = models.ForeignKey(Family, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    body = models.TextField()

    def __str__(self) -> str:
        return f"list row of model {self.model_id}"


# A model's descriptive facts, in the order the registry writes them: what sources may state and curators correct
# (slug, creator, family and aliases are identity, kept apart).
MODEL_FACT_FIELDS = (
    *("name", "description", "release_date", "status", "deprecation_date", "sunset_date", "successor"),
    *("context_window", "max_output", "input_modalities", "output_modalities", "capabilities", "open_weights"),
    *("parameters_total", "parameters_active", "license", "knowledge_cutoff", "canonical_url"),
)


class Alias(RegistryTracked):
    """Any other name a model goes by; every alias resolves to exactly one canonical model."""

    alias = models.CharField(max_length=300, unique=True)
    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="aliases")
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="aliases")
    # A dated snapshot name can be retired on its own while the model lives on.
    status = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    retirement_date = models.DateField(null=True, blank=True)

    history = HistoricalRecords(no_db_index=["in_registry", "provider"])
    objects = AliasQuerySet.as_manager()

    class Meta:
        ordering = ["alias"]
        verbose_name_plural = "aliases"
        constraints = [_status_check("alias")]

    def __str__(self) -> str:
        return self.alias


# Every Decimal price column of an offer (USD per million tokens unless the field's help text says otherwise).
PRICE_COLUMNS = (
    *("price_input", "price_output", "price_cached_input", "price_cache_write", "price_cache_write_1h"),
    *("price_reasoning", "price_audio_input", "price_audio_output", "price_image_input", "price_image_output"),
    *("price_per_image", "price_per_request", "price_web_search", "price_batch_input", "price_batch_output"),
)


class Mapping(RegistryTracked):
    """A model offered by a provider: the provider's own id, prices per million tokens and limits there."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="mappings")
    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="mappings")
    provider_model_id = models.CharField(max_length=300)
    price_input = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_output = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_cached_input = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_cache_write = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_cache_write_1h = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_reasoning = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_audio_input = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_audio_output = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_image_input = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_image_output = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_per_image = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_per_request = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_web_search = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, help_text="USD per 1,000 searches."
    )
    price_batch_input = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    price_batch_output = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    # Long-context tiers: [{"above": 200000, "input": "6", "output": "22.5", "cached_input": "0.6"}], prompt tokens.
    price_tiers = models.JSONField(default=list, blank=True)
    regional_uplift = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True, help_text="Percent added in regional endpoints."
    )
    billing = models.CharField(max_length=20, choices=Billing.choices, default=Billing.PER_TOKEN)
    prices_checked = models.DateTimeField(null=True, blank=True, help_text="When a source last confirmed the prices.")
    registry_values = models.JSONField(default=dict, blank=True, editable=False)
    provenance = models.JSONField(default=dict, blank=True, editable=False)
    context_window = models.PositiveIntegerField(null=True, blank=True)
    max_output = models.PositiveIntegerField(null=True, blank=True)
    quantization = models.CharField(max_length=30, blank=True)
    delivery_modes = models.JSONField(default=list, blank=True)
    # The offer's own lifecycle: a provider retiring a model on its platform retires this offer, not the model.
    status = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    retirement_date = models.DateField(null=True, blank=True)
    # Aggregators (OpenRouter): the upstream provider that serves this endpoint and the endpoint's variant
    # (":free", ":extended", ...). The offer stays the aggregator's; these are facts about it.
    served_by = models.CharField(max_length=100, blank=True)
    variant = models.CharField(max_length=30, blank=True)
    needs_review = models.BooleanField(default=False, help_text="Created by ingestion from an id nothing matched.")
    # Who keeps this offer: "registry" (manual, exported), or the automated source that created it ("openrouter",
    # a provider listing such as "openai"). Automated sources never overwrite a registry offer's prices.
    source = models.CharField(max_length=50, default="registry", db_index=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(no_db_index=["in_registry", "provider", "source"])
    objects = MappingQuerySet.as_manager()

    PRICE_FIELDS = PRICE_COLUMNS

    class Meta:
        ordering = ["provider__slug", "provider_model_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_model_id"], name="mapping_provider_model_id_unique"),
            _status_check("mapping"),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{f}__isnull": True}) | Q(**{f"{f}__gte": 0}), name=f"mapping_{f}_non_negative"
                )
                for f in PRICE_COLUMNS
            ],
            models.CheckConstraint(condition=Q(billing__in=Billing.values), name="mapping_billing_valid"),
        ]
        indexes = [
            models.Index(fields=["model", "provider"], name="mapping_model_provider_idx"),
            models.Index(fields=["status"], name="mapping_status_idx"),
            models.Index(fields=["price_input"], name="mapping_price_input_idx"),
            models.Index(fields=["price_output"], name="mapping_price_output_idx"),
            models.Index(fields=["needs_review"], name="mapping_needs_review_idx"),
            models.Index(fields=["billing"], name="mapping_billing_idx"),
            models.Index(fields=["prices_checked"], name="mapping_prices_checked_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_model_id} @ {self.provider_id}"


class PriceRecord(models.Model):
    """One period of an offer's resolved prices: from `valid_from` until `valid_to` (null: still current), with the
    source that set them. Every change of the shown prices closes one record and opens the next."""

    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="price_history")
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=50)
    billing = models.CharField(max_length=20, choices=Billing.choices, default=Billing.PER_TOKEN)
    prices = models.JSONField(default=dict, help_text="Price field → decimal string; only the fields that are set.")

    class Meta:
        ordering = ["mapping", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["mapping", "valid_from"], name="price_record_mapping_from_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="price_record_period_forward",
            ),
        ]
        indexes = [
            models.Index(fields=["valid_from"], name="price_record_from_idx"),
            models.Index(fields=["mapping", "valid_to"], name="price_record_current_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.mapping_id} from {self.valid_from:%Y-%m-%d}"
