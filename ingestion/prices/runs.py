"""One price feed's ingestion run, from fetch to matched offers to applied prices, and the daily run of them all."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from ingestion.models import IngestionRun, RunStatus
from ingestion.prices.apply import ingestion_apply_prices
from ingestion.prices.matching import price_statements_match, unmatched_prices_record
from ingestion.prices.sources import PRICE_SOURCES, PriceFeedSource
from ingestion.screening import screen_statements
from ingestion.sources.base import SourceError
from ingestion.sources.http import make_client

log = logging.getLogger(__name__)


def price_feed_run(
    run: IngestionRun, adapter: PriceFeedSource, *, base_url: str | None = None, client: httpx.Client | None = None
) -> tuple[str, str, dict[str, Any]]:
    """Fetch one feed, match its rows to our offers (unmatched ones are listed for curators) and apply the prices.
    Returns (status, message, details) for the run; a feed's failure is recorded, never raised."""
    try:
        own_client = client is None
        client = client or make_client(timeout=adapter.timeout)
        try:
            statements = adapter.fetch_prices(client=client, base_url=base_url)
        finally:
            if own_client:
                client.close()
    except SourceError as exc:
        return RunStatus.FAILED, exc.message, {"error_kind": exc.kind}
    except Exception as exc:  # a feed's bug must not take other sources down
        log.exception("price feed %s crashed", run.source)
        return RunStatus.FAILED, f"{run.source}: unexpected error: {type(exc).__name__}", {"error_kind": "schema"}
    # A row the catalogue cannot hold (a NUL or 5,000 characters in a key) is left out alone, not the whole feed.
    screened = screen_statements(statements)
    statements = screened.kept
    try:
        matches = price_statements_match(statements)
        unmatched = unmatched_prices_record(unmatched=matches.unmatched, run=run)
        counts = ingestion_apply_prices(run=run, statements=[(m.mapping, m.statement) for m in matches.matched])
    except Exception as exc:
        log.exception("applying %s prices failed", run.source)
        return RunStatus.FAILED, f"{run.source}: could not apply prices: {exc}", {}
    details = {
        "statements": len(statements),
        "matched": len(matches.matched),
        "unmatched": unmatched,
        "match_rate": round(matches.rate, 3),
        **dict(counts),
    }
    if screened.refused:
        return RunStatus.PARTIAL, screened.message(run.source, "row"), {**details, **screened.details()}
    return RunStatus.SUCCESS, "", details


def price_feeds_run_all() -> list[int]:
    """The daily schedule's task: every price feed, one run each (ids returned); one failing never stops the next."""
    from ingestion.services import ingestion_run_all

    return [run.pk for run in ingestion_run_all(sources=list(PRICE_SOURCES))]
