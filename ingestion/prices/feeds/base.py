"""Shared by the price feed adapters: one document fetched over SourceHttp, prices as tidy Decimals, shape errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.utils import timezone

from ingestion.prices.statements import PriceStatement
from ingestion.sources.base import SchemaMismatch, SourceError, SourceErrorKind
from ingestion.sources.http import SourceHttp

MICRO = Decimal("0.000001")  # Mapping price columns keep six decimal places
MILLION = Decimal(1_000_000)
THOUSAND = Decimal(1_000)
LARGEST = Decimal(10) ** 8  # the price columns: 14 digits, 6 of them decimal places


def money(value: Any, *, scale: Decimal = Decimal(1)) -> Decimal | None:
    """A non-negative number times `scale`, rounded to the column's six places; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        amount = Decimal(str(value)) * scale
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= LARGEST:
        return None  # 1e308 per token is no price, and no column holds it (it also broke the quantize below)
    amount = amount.quantize(MICRO)
    return amount.to_integral_value() if amount == amount.to_integral_value() else amount.normalize()


def when(value: Any) -> datetime | None:
    """An ISO date or timestamp (YAML may already have parsed it) as an aware datetime; None when absent or odd."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            return when(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def tier_rows(tiers: dict[int, dict[str, Decimal]]) -> list[dict[str, Any]]:
    """`{threshold: {input: …}}` as the Mapping's `price_tiers` list: ascending, decimal strings."""
    return [
        {"above": above, **{key: str(price) for key, price in sorted(prices.items())}}
        for above, prices in sorted(tiers.items())
        if prices
    ]


class DocumentFeed:
    """A feed published as one JSON document at `path`: fetched once per run, then parsed by the subclass."""

    name: ClassVar[str]
    default_base_url: ClassVar[str]
    path: ClassVar[str]

    def fetch_prices(self, http: SourceHttp, *, observed_at: datetime | None = None) -> list[PriceStatement]:
        body, _ = http.get_json(self.path)
        try:
            return self.parse(body, observed_at or timezone.now())
        except SchemaMismatch as exc:
            message = http.say(f"{http.describe(self.path)}: unexpected response shape ({exc})")
            raise SourceError(SourceErrorKind.SCHEMA, message) from None

    def parse(self, body: Any, observed_at: datetime) -> list[PriceStatement]:
        raise NotImplementedError
