"""What a price feed states about one offer, in catalogue terms, and the protocol every feed adapter follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ingestion.sources.http import SourceHttp


@dataclass(frozen=True)
class PriceStatement:
    """One feed row: the feed's own provider name and model id, and the offer fields it states.

    `fields` uses the catalogue's names (`price_input`, …, `price_tiers`, `billing`; Decimals for prices, USD per
    million tokens unless the Mapping field says otherwise) and holds only what the feed states. `provider` is our
    provider slug when the feed's name maps to one, else None (the row is then listed as unmatched, never guessed).
    `valid_from` is the feed's own date for these prices (a dated constraint, the file's date) when it has one.
    """

    source: str
    provider_key: str
    model_key: str
    fields: dict
    observed_at: datetime
    provider: str | None = None
    valid_from: datetime | None = None
    notes: tuple[str, ...] = field(default=())


@runtime_checkable
class PriceFeed(Protocol):
    """A price feed adapter: reads its document over the shared HTTP layer and states prices."""

    name: ClassVar[str]
    default_base_url: ClassVar[str]

    def fetch_prices(self, http: SourceHttp) -> list[PriceStatement]: ...
