"""One routable offer (a mapping at a provider the gateway can speak to) as a plain value: no ORM on the hot path."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.pricing import blended_price

SYNC, STREAMING, BATCH = "sync", "streaming", "batch"
# A mapping that states no delivery modes is served the OpenAI way: synchronous and streaming, not batch.
UNSTATED_MODES = (SYNC, STREAMING)
# The upstream API an offer's provider speaks (routing.connectors): OpenAI's is passed through untranslated.
OPENAI_API = "openai"


@dataclass(frozen=True, slots=True)
class RouteCandidate:
    mapping_id: int
    provider_id: int
    model_id: int
    model_slug: str
    provider_slug: str
    provider_model_id: str
    base_url: str = ""
    key_ref: str = field(default="", repr=False)  # the secret's reference, never its value
    price_input: float | None = None
    price_output: float | None = None
    delivery_modes: tuple[str, ...] = ()
    api: str = OPENAI_API

    @property
    def label(self) -> str:
        return f"{self.model_slug}@{self.provider_slug}"

    @property
    def blended_price(self) -> float | None:
        """Per million tokens, input weighted 3:1 over output: the catalogue's comparisons' figure."""
        return blended_price(self.price_input, self.price_output)

    def delivers(self, mode: str) -> bool:
        return mode in (self.delivery_modes or UNSTATED_MODES)

    def matches(self, entry: str) -> bool:
        """Whether a priority-list entry ("model@provider", "model", "@provider") names this offer."""
        model, _, provider = entry.strip().partition("@")
        if provider and provider != self.provider_slug:
            return False
        return not model or model in (self.model_slug, self.provider_model_id)
