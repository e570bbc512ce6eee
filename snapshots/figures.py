"""Volatile figures read back from the batches' column blocks: an endpoint's series, a batch's statuses.

Nothing here reads a body: each batch's block is decompressed once (a few KB, against a cached keyframe block)
and every entity asked for is picked out of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from snapshots.frames import BlobReader
from snapshots.models import Batch
from snapshots.storage import BatchReader

MAIN_FIELDS = ("status", "uptime_last_5m", "uptime_last_30m", "uptime_last_1d")


def _number(value):
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass
class Figures:
    """One endpoint's volatile fields in one batch, as received, with the usual ones picked out."""

    batch: Batch
    values: dict = field(default_factory=dict)

    def _get(self, name: str):
        return _number(self.values.get(name))

    @property
    def status(self):
        return self._get("status")

    @property
    def uptime_last_5m(self):
        return self._get("uptime_last_5m")

    @property
    def uptime_last_30m(self):
        return self._get("uptime_last_30m")

    @property
    def uptime_last_1d(self):
        return self._get("uptime_last_1d")

    @property
    def latency_p50(self):
        latency = self.values.get("latency_last_30m")
        return _number(latency.get("p50")) if isinstance(latency, dict) else None

    @property
    def throughput_p50(self):
        throughput = self.values.get("throughput_last_30m")
        return _number(throughput.get("p50")) if isinstance(throughput, dict) else None

    @property
    def extras(self) -> dict:
        """Every other volatile field (percentiles, counts) as received."""
        return {k: v for k, v in self.values.items() if k not in MAIN_FIELDS}


def figures_series(
    entity_ids: Iterable[int], limit: int, path: str | None = None, reader: BlobReader | None = None
) -> dict[int, list[Figures]]:
    """Each entity's figures in the newest `limit` batches that have a column block, oldest first.

    `path`: the body all the entities come from (a model's `/endpoints`): only its page's block is read."""
    wanted = set(entity_ids)
    series: dict[int, list[Figures]] = {pk: [] for pk in wanted}
    if not wanted:
        return series
    reader = reader or BlobReader()
    batches = Batch.objects.filter(volatile__isnull=False).only("id", "hour", "manifest_id", "volatile_id")
    for batch in reversed(list(batches.order_by("-hour")[:limit])):
        batch_reader = BatchReader(batch, reader)
        blocks = batch_reader.blocks() if path is None else [batch_reader.block(batch_reader.page_of(path))]
        for block in blocks:
            if block is None:
                continue
            for pk in wanted & block.rows.keys():
                series[pk].append(Figures(batch, block.figures(pk) or {}))
    return series


def batch_figures(batch: Batch, reader: BlobReader | None = None) -> dict[int, Figures]:
    """Every endpoint's figures in one batch, by entity id."""
    if batch.volatile_id is None:
        return {}
    return {
        pk: Figures(batch, block.figures(pk) or {})
        for block in BatchReader(batch, reader).blocks()
        for pk in block.rows
    }
