"""Volatile figures read back from the batches' column blocks: an endpoint's series, a batch's statuses.

Nothing here reads a body: each batch's block is decompressed once (a few KB, against a cached keyframe block)
and every entity asked for is picked out of it. Decoding a block's columns is what a series costs (up to ~5 ms a
block of 128 endpoints; a block decodes its entries only up to the one asked for), so a process keeps the blocks it
decoded for series, by blob id: a blob row is never rewritten and PostgreSQL never hands out an id twice, so a kept
block cannot go stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from snapshots.columns import Block
from snapshots.frames import BlobReader
from snapshots.models import Batch
from snapshots.storage import BatchReader

MAIN_FIELDS = ("status", "uptime_last_5m", "uptime_last_30m", "uptime_last_1d")
BLOCK_CACHE_SIZE = 48  # decoded blocks a process keeps (~85 KB each): two days of hours of one page


class BlockCache:
    """Decoded column blocks by blob id, least recently used dropped first; shared by a process's threads."""

    def __init__(self, size: int = BLOCK_CACHE_SIZE):
        self.size = size
        self.blocks: OrderedDict[int, Block] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, blob_id: int) -> Block | None:
        with self.lock:
            block = self.blocks.get(blob_id)
            if block is not None:
                self.blocks.move_to_end(blob_id)
            return block

    def put(self, blob_id: int, block: Block) -> None:
        with self.lock:
            self.blocks[blob_id] = block
            self.blocks.move_to_end(blob_id)
            while len(self.blocks) > self.size:
                self.blocks.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.blocks.clear()


BLOCKS = BlockCache()


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

    `path`: the body all the entities come from (a model's `/endpoints`): only its page's block is read. The blob
    rows of every batch's page index, then of every block, are fetched in one query each, not one per batch."""
    wanted = set(entity_ids)
    series: dict[int, list[Figures]] = {pk: [] for pk in wanted}
    if not wanted:
        return series
    reader = reader or BlobReader()
    batches = Batch.objects.filter(volatile__isnull=False).only("id", "hour", "manifest_id", "volatile_id")
    readers = [BatchReader(batch, reader) for batch in reversed(list(batches.order_by("-hour")[:limit]))]
    _prefetch_chains(reader, [r.batch.manifest_id for r in readers if r.batch.manifest_id is not None])
    pages = {r.batch.pk: (r.pages() or []) if path is None else [r.page_of(path)] for r in readers}
    ids = [page.volatile for found in pages.values() for page in found if page is not None and page.volatile]
    cached = {blob_id: block for blob_id in ids if (block := BLOCKS.get(blob_id)) is not None}
    kept = set(ids[-BLOCKS.size :])  # the newest: a longer series must not push them out with its oldest blocks
    _prefetch_chains(reader, [blob_id for blob_id in ids if blob_id not in cached])
    for batch_reader in readers:
        for page in pages[batch_reader.batch.pk]:
            if page is None or page.volatile is None:
                continue
            block = cached.get(page.volatile)
            if block is None:
                block = batch_reader.block(page)
                if block is None:
                    continue
                if page.volatile in kept:
                    BLOCKS.put(page.volatile, block)
            for pk in wanted & block.rows.keys():
                series[pk].append(Figures(batch_reader.batch, block.figures(pk) or {}))
    return series


def _prefetch_chains(reader: BlobReader, ids: list[int]) -> None:
    """Load the rows of these blobs and of what they are read against (references, segments), a level per query."""
    while ids:
        reader.prefetch(ids)
        rows = [reader.rows[pk] for pk in ids if pk in reader.rows]
        ids = [
            parent
            for row in rows
            for parent in (row["reference_id"], row["segment_id"])
            if parent is not None and parent not in reader.rows and parent not in reader.contents
        ]


def batch_figures(batch: Batch, reader: BlobReader | None = None) -> dict[int, Figures]:
    """Every endpoint's figures in one batch, by entity id."""
    if batch.volatile_id is None:
        return {}
    return {
        pk: Figures(batch, block.figures(pk) or {})
        for block in BatchReader(batch, reader).blocks()
        for pk in block.rows
    }
