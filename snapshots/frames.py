"""Cheap reads of stored blobs: small independent frames, a cache of what was decompressed, a decompression counter.

A record (a body template, a list item, a list's template or keys) is either its own small frame (a delta against
the previous version of the same record, `reference`, or a standalone frame) or a slice of a *segment*: a frame of
at most SEGMENT_SIZE bytes holding the keyframes of one batch, compressed as one stream. Reading one record thus
decompresses one segment at most plus a short chain of small deltas; `BlobReader` keeps recent contents (segments,
keyframes, manifests) so reading a whole batch decompresses each segment once. A list's segment (its items, read
whole with it) may instead be a group frame against the batch's newest record segments (CONTEXT_BYTES of them), when
that is smaller: a list then costs those segments' decompression too, a one-body read of an endpoint nothing more.
`COUNTER` adds up every byte decompressed, which is what the bench and the tests hold the read path to.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import zstandard as zstd

from snapshots.models import Blob

SEGMENT_SIZE = 128 * 1024  # bytes of keyframes per segment before compression: a read decompresses at most this
LIST_SEGMENT_SIZE = 4 << 20  # the items of a list are read whole with their list: bigger segments, one stream each
TABLE_LOG = 20  # match tables of 2^20 entries at most (~8 MB whatever the level): the sync's memory stays flat
CONTEXT_BYTES = 1 << 20  # raw bytes of a batch's newest record segments that its list segments are compressed against
CACHE_BYTES = 8 << 20  # contents kept by one reader (two list segments)
BULK_ROWS = 500  # rows per INSERT: the statement and its parameters stay small however many records a segment holds
ROW_FIELDS = ("id", "size", "data", "reference_id", "segment_id", "offset", "role")


@dataclass
class ReadCounter:
    """Bytes and frames decompressed by this process (reset it around a read to measure that read)."""

    bytes: int = 0
    frames: int = 0

    def reset(self) -> None:
        self.bytes = self.frames = 0


COUNTER = ReadCounter()


def raw_dictionary(prefix: bytes | None) -> zstd.ZstdCompressionDict | None:
    return zstd.ZstdCompressionDict(prefix, dict_type=zstd.DICT_TYPE_RAWCONTENT) if prefix else None


def delta_params(level: int, total: int) -> zstd.ZstdCompressionParameters:
    """Small record frames: no magic number, checksum or dictionary id (the row says what it is and its hash)."""
    caps = {"hash_log": TABLE_LOG, "chain_log": TABLE_LOG} if total > 1 << 20 else {}
    return zstd.ZstdCompressionParameters.from_level(
        level,
        window_log=max(17, min(27, total.bit_length())),
        **caps,
        format=zstd.FORMAT_ZSTD1_MAGICLESS,
        write_checksum=0,
        write_dict_id=0,
        write_content_size=0,
    )


def compact(frame: bytes) -> bytes:
    """A right-sized copy of a frame from `ZstdCompressor.compress`, which returns its output in an allocation of the
    input's bound (a 4 MB segment's frame of 40 KB holds 4 MB for as long as the frame is kept)."""
    return bytes(memoryview(frame))


def delta_compress(content: bytes | bytearray, prefix: bytes | None, level: int = 19) -> bytes:
    params = delta_params(level, len(content) + len(prefix or b""))
    return compact(zstd.ZstdCompressor(compression_params=params, dict_data=raw_dictionary(prefix)).compress(content))


def group_data(references: list[int], frame: bytes) -> bytes:
    """A group frame's data: the ids of the records its dictionary is made of (varints), then the frame."""
    head = bytearray()
    for n in [len(references), *references]:
        while n >= 0x80:
            head.append((n & 0x7F) | 0x80)
            n >>= 7
        head.append(n)
    return bytes(head) + frame


def group_references(data: bytes) -> tuple[list[int], bytes]:
    numbers: list[int] = []
    pos = 0
    while len(numbers) < (numbers[0] + 1 if numbers else 1):
        shift = value = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        numbers.append(value)
    return numbers[1:], data[pos:]


def decompress(data: bytes, size: int, prefix: bytes | None = None, *, magicless: bool = False) -> bytes:
    """One frame back to its `size` bytes, counted in COUNTER."""
    fmt = zstd.FORMAT_ZSTD1_MAGICLESS if magicless else zstd.FORMAT_ZSTD1
    decompressor = zstd.ZstdDecompressor(dict_data=raw_dictionary(prefix), max_window_size=1 << 27, format=fmt)
    content = decompressor.decompressobj().decompress(data) if size else b""
    if len(content) != size:
        raise ValueError(f"a frame gave {len(content)} bytes, {size} expected")
    COUNTER.bytes += size
    COUNTER.frames += 1
    return content


class BlobReader:
    """Reads blobs by id, keeping up to CACHE_BYTES of decompressed contents (least recently used dropped first)."""

    def __init__(self, capacity: int = CACHE_BYTES):
        self.capacity = capacity
        self.contents: OrderedDict[int, bytes] = OrderedDict()
        self.rows: dict[int, dict] = {}
        self.held = 0

    def prefetch(self, ids: Iterable[int]) -> None:
        """Load the rows of many records in one query (their frames are decompressed only when read)."""
        missing = {pk for pk in ids if pk not in self.rows and pk not in self.contents}
        for start in range(0, len(missing), 2000):
            chunk = sorted(missing)[start : start + 2000]
            for row in Blob.objects.filter(pk__in=chunk).values(*ROW_FIELDS):
                self.rows[row["id"]] = row

    def _row(self, pk: int) -> dict:
        row = self.rows.get(pk)
        if row is None:
            row = self.rows[pk] = Blob.objects.values(*ROW_FIELDS).get(pk=pk)
        return row

    def read(self, pk: int) -> bytes:
        content = self.contents.get(pk)
        if content is not None:
            self.contents.move_to_end(pk)
            return content
        row = self._row(pk)
        if row["segment_id"] is not None:
            segment = self.read(row["segment_id"])
            content = segment[row["offset"] : row["offset"] + row["size"]]
            self.rows.pop(pk, None)
            return content  # a slice of a cached segment: not cached twice
        data = bytes(row["data"])
        if row["role"] == Blob.Role.GROUP:
            references, data = group_references(data)
            self.prefetch(references)
            prefix: bytes | None = b"".join(self.read(ref) for ref in references)
        else:
            prefix = self.read(row["reference_id"]) if row["reference_id"] is not None else None
        magicless = row["role"] in (Blob.Role.DELTA, Blob.Role.GROUP)
        content = decompress(data, row["size"], prefix, magicless=magicless)
        self.rows.pop(pk, None)
        self._keep(pk, content)
        return content

    def _keep(self, pk: int, content: bytes) -> None:
        self.contents[pk] = content
        self.held += len(content)
        while self.held > self.capacity and len(self.contents) > 1:
            _, dropped = self.contents.popitem(last=False)
            self.held -= len(dropped)


class SegmentWriter:
    """Collects the keyframe records of a batch into segments of at most `limit` bytes, each one zstd frame.

    The open segment is held as its raw bytes (at most `limit`) and compressed in one call when it is full: a
    streaming compressor kept open between records would hold its window and match tables (~18 MB for a list
    segment at level 19) for as long as the segment stays open, and a list's last segment stays open until the
    next list arrives."""

    def __init__(self, level: int, limit: int = SEGMENT_SIZE, context: SegmentWriter | None = None):
        self.level = level
        self.limit = limit
        self.pending: list[Blob] = []  # unsaved record rows of the open segment
        self.buffer = bytearray()
        self.blobs: list[Blob] = []  # every row written (segments and records)
        # The newest segments this writer wrote, raw (CONTEXT_BYTES at most), kept while another writer has this one
        # as its context and compresses against them.
        self.recent: list[tuple[Blob, bytearray]] = []
        self.keeps_recent = False
        self.context = context
        if context is not None:
            context.keeps_recent = True

    @property
    def size(self) -> int:
        return len(self.buffer)

    def add(self, record: Blob, content: bytes) -> None:
        if self.size + len(content) > self.limit and self.pending:
            self.flush()
        record.offset = self.size
        self.pending.append(record)
        self.buffer += content

    def flush(self) -> None:
        if not self.pending:
            return
        size = self.size
        digest = hashlib.sha256(b"segment:")
        digest.update(self.buffer)
        segment = Blob.objects.filter(sha256=digest.digest()).first()
        if segment is None:
            segment = Blob.objects.create(sha256=digest.digest(), size=size, **self._frame())
        if self.keeps_recent:  # the raw bytes themselves: the next segment starts a new buffer
            self.recent.append((segment, self.buffer))
            while sum(len(content) for _, content in self.recent) > CONTEXT_BYTES:
                self.recent.pop(0)
        self.buffer = bytearray()
        records = self.pending
        for record in records:
            record.segment = segment
        Blob.objects.bulk_create(records, batch_size=BULK_ROWS)
        self.blobs += [segment, *records]
        self.pending = []

    def _frame(self) -> dict:
        """The open segment's frame: alone, or (a list segment written after some of the batch's other keyframes)
        a group frame against those segments laid end to end, whichever is smaller. A batch's first lists repeat
        much of what its endpoint bodies hold (names, descriptions, architectures): the 2026 catalogue's first list
        segment took 137 KB alone and 104 KB against them. Both are tried because zstd does worse with a prefix much
        smaller than the input (a 2 MB list: 100 KB alone, 114 KB against a 32 KB prefix)."""
        params = zstd.ZstdCompressionParameters.from_level(
            self.level,
            window_log=min(27, max(17, (self.size - 1).bit_length())),
            hash_log=TABLE_LOG,
            chain_log=TABLE_LOG,
            write_checksum=1,
        )
        alone = {
            "data": compact(zstd.ZstdCompressor(compression_params=params).compress(self.buffer)),
            "role": Blob.Role.SEGMENT,
        }
        context = self.context.recent if self.context is not None else []
        if not context:
            return alone
        frame = delta_compress(self.buffer, b"".join(content for _, content in context), self.level)
        grouped = group_data([segment.pk for segment, _ in context], frame)
        if len(grouped) >= len(alone["data"]):
            return alone
        return {"data": grouped, "role": Blob.Role.GROUP, "depth": max(segment.depth for segment, _ in context) + 1}
