"""Lossless, deduplicated raw storage: records, column blocks and one manifest per batch.

Each response body is split into a *template* (the body with the values of its volatile fields cut out) and the
list of those values' exact bytes (the *tokens*). Joining them gives back the received bytes exactly; the split is
checked by doing so before anything is stored, and a body that does not round-trip is stored whole.

Templates become records (records.py): an endpoint's template is one record, a list body's template is cut into
one record per item plus the list's own template, each stored once and as a delta of its previous version; the
tokens of the whole batch go into one column block (columns.py). The batch's manifest (one JSON line per response:
path, status, its records, its entry in the column block) is a blob compressed against a keyframe manifest.
Every read goes through frames.py, which counts what it decompresses.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import zstandard as zstd

from snapshots.columns import Block
from snapshots.conf import setting
from snapshots.frames import BlobReader, compact, raw_dictionary
from snapshots.models import Batch, Blob
from snapshots.records import join_list

VOLATILE_KEYS = (
    "uptime_last_5m",
    "uptime_last_30m",
    "uptime_last_1d",
    "latency_last_30m",
    "throughput_last_30m",
    "status",
    "stats",
    "request_count",
    "requests_last_30m",
)
# A volatile key followed by a scalar or a flat object: the value's bytes are the token.
_KEYS = b"|".join(key.encode() for key in VOLATILE_KEYS)
_FLAT_OBJECT = rb'\{[^{}"]*(?:"[^"\\]*"[^{}"]*)*\}'
VOLATILE_VALUE = re.compile(rb'"(' + _KEYS + rb')"\s*:\s*(-?[0-9][0-9.eE+-]*|null|true|false|' + _FLAT_OBJECT + rb")")
LARGE = 1 << 20
PLACEHOLDER = b"\x00"
MANIFEST_CHAIN = 1  # a manifest page (and a column block) is a delta of a keyframe one: two frames to read it
PAGE_ENTRIES = 128  # manifest entries per page: reading one body opens one page and its column block


def sha256(content: bytes) -> bytes:
    return hashlib.sha256(content).digest()


def split_volatile(body: bytes) -> tuple[bytes, list[bytes]]:
    """(template, tokens) such that `join_volatile(template, tokens) == body`, or (body, []) if no round trip.

    Each cut value is replaced by a NUL byte, which valid JSON text never contains unescaped."""
    template, tokens, _ = split_volatile_fields(body)
    return template, tokens


def split_volatile_fields(body: bytes) -> tuple[bytes, list[bytes], list[str]]:
    """`split_volatile` with the field each token is the value of."""
    if PLACEHOLDER in body:
        return body, [], []
    tokens: list[bytes] = []
    fields: list[str] = []
    parts: list[bytes] = []
    last = 0
    for match in VOLATILE_VALUE.finditer(body):
        parts.append(body[last : match.start(2)])
        tokens.append(match.group(2))
        fields.append(match.group(1).decode())
        last = match.end(2)
    if not tokens:
        return body, [], []
    parts.append(body[last:])
    template = PLACEHOLDER.join(parts)
    if join_volatile(template, tokens) != body:
        return body, [], []
    return template, tokens, fields


def join_volatile(template: bytes, tokens: list[bytes]) -> bytes:
    if not tokens:
        return template
    parts = template.split(PLACEHOLDER)
    if len(parts) != len(tokens) + 1:
        raise ValueError(f"template has {len(parts) - 1} placeholders for {len(tokens)} tokens")
    out = [parts[0]]
    for token, part in zip(tokens, parts[1:], strict=True):
        out.append(token)
        out.append(part)
    return b"".join(out)


# --- compression ----------------------------------------------------------------------------------------------------


def _compressor(size: int, prefix: bytes | None) -> zstd.ZstdCompressor:
    dict_data = raw_dictionary(prefix)
    total = size + len(prefix or b"")
    if total < LARGE:
        return zstd.ZstdCompressor(level=setting("SNAPSHOTS_ZSTD_LEVEL"), dict_data=dict_data, write_dict_id=False)
    # List bodies and packs of megabytes: a window spanning prefix and body, match tables capped at 2^21 entries
    # (~16 MB, whatever the level). No long-distance matching: zstd does not index a dictionary for it, so deltas
    # against the previous body would grow 50-fold.
    params = zstd.ZstdCompressionParameters.from_level(
        setting("SNAPSHOTS_ZSTD_LEVEL_LARGE"),
        window_log=max(20, min(27, total.bit_length())),
        hash_log=21,
        chain_log=21,
        write_checksum=1,
    )
    return zstd.ZstdCompressor(compression_params=params, dict_data=dict_data)


def compress(content: bytes, prefix: bytes | None = None) -> bytes:
    return compact(_compressor(len(content), prefix).compress(content))


def blob_read(blob: Blob, reader: BlobReader | None = None) -> bytes:
    """The content of a blob: its frame (or its segment's), decompressed against its reference when it is a delta."""
    return (reader or BlobReader()).read(blob.pk)


def _root_of(blob: Blob) -> Blob:
    while blob.reference_id is not None:
        blob = Blob.objects.only("id", "data", "size", "reference_id", "depth").get(pk=blob.reference_id)
    return blob


def blob_store(
    content: bytes,
    *,
    digest: bytes | None = None,
    previous_id: int | None = None,
    role: str = Blob.Role.BODY,
    max_depth: int = 1,
    reader: BlobReader | None = None,
) -> tuple[Blob, bool]:
    """Store `content` once: the existing blob if its hash is known, else a new one, a delta against the previous
    content of the same source (`previous_id`) when that is worth it. Returns (blob, created).

    A delta references the previous content itself while the chain is shorter than `max_depth`, else the chain's
    keyframe: bodies use 1 (any body is two decompressions away), manifests a day's worth."""
    digest = digest or sha256(content)
    existing = Blob.objects.filter(sha256=digest).only("id", "size", "reference_id").first()
    if existing is not None:
        return existing, False
    data, reference = None, None
    if previous_id is not None:
        previous = Blob.objects.only("id", "data", "size", "reference_id", "depth").get(pk=previous_id)
        keyframe = _root_of(previous)
        base = previous if previous.depth < max_depth else keyframe
        delta = compress(content, blob_read(base, reader))
        # A delta bigger than half its keyframe means the source drifted: start a new keyframe instead.
        if len(delta) * 2 <= max(len(keyframe.data), 64):
            data, reference = delta, base
    if data is None:
        data = compress(content)
    depth = reference.depth + 1 if reference is not None else 0
    blob = Blob.objects.create(sha256=digest, size=len(content), data=data, reference=reference, role=role, depth=depth)
    return blob, True


# --- manifest -------------------------------------------------------------------------------------------------------


@dataclass
class ManifestEntry:
    path: str
    kind: str
    status: int
    blob: int | None = None  # the record holding the template (a list's own template when `items` is set)
    offset: int | None = None  # storage v1: where the template is in a pack (None: the whole blob)
    length: int | None = None
    digest: str = ""  # sha256 of the template (first 128 bits, hex)
    tokens: list[str] = field(default_factory=list)  # storage v1: the volatile tokens; now in the column block
    size: int = 0  # bytes received (not written: the template and tokens give it back)
    error: str = ""
    items: list[int] = field(default_factory=list)  # a list body: its items' records, in order
    volatile: int | None = None  # this body's entry in its page's column block
    reader: BatchReader | None = field(default=None, repr=False, compare=False)
    page: Page | None = field(default=None, repr=False, compare=False)

    KEYS = {
        "p": "path",
        "k": "kind",
        "s": "status",
        "b": "blob",
        "o": "offset",
        "l": "length",
        "h": "digest",
        "t": "tokens",
        "e": "error",
        "i": "items",
        "v": "volatile",
    }

    def line(self) -> bytes:
        data = {short: getattr(self, name) for short, name in self.KEYS.items()}
        return json.dumps({k: v for k, v in data.items() if v not in (None, "", [])}, separators=(",", ":")).encode()

    @classmethod
    def from_line(cls, line: bytes) -> ManifestEntry:
        return cls(**{cls.KEYS[short]: value for short, value in json.loads(line).items()})


@dataclass
class Page:
    """PAGE_ENTRIES consecutive manifest entries (by path) and their column block: what one body read opens."""

    first: str  # the first path of the page
    manifest: int
    volatile: int | None

    @staticmethod
    def index(pages: list[Page]) -> bytes:
        return json.dumps({"pages": [[p.first, p.manifest, p.volatile] for p in pages]}, separators=(",", ":")).encode()

    @staticmethod
    def parse(content: bytes) -> list[Page] | None:
        """The pages of a page index; None for a storage v1 manifest (its entries, one per line)."""
        if not content.startswith(b'{"pages"'):
            return None
        return [Page(*page) for page in json.loads(content)["pages"]]


def page_store(lines: list[bytes], previous_id: int | None, reader: BlobReader | None = None) -> Blob:
    """One manifest page, a delta of the same page of a keyframe batch."""
    content = b"\n".join(lines)
    role = Blob.Role.MANIFEST
    blob, _ = blob_store(content, previous_id=previous_id, role=role, max_depth=MANIFEST_CHAIN, reader=reader)
    return blob


def batch_pages(batch: Batch | None, reader: BlobReader) -> list[Page]:
    if batch is None or batch.manifest_id is None:
        return []
    return Page.parse(reader.read(batch.manifest_id)) or []


class BatchReader:
    """Reads the bodies of one batch, sharing decompressed segments, keyframes and column blocks between them."""

    def __init__(self, batch: Batch, reader: BlobReader | None = None):
        self.batch = batch
        self.blobs = reader or BlobReader()
        self._blocks: dict[int, Block] = {}

    def pages(self) -> list[Page] | None:
        """The batch's pages (None: a storage v1 batch, one manifest)."""
        if self.batch.manifest_id is None:
            return []
        return Page.parse(self.blobs.read(self.batch.manifest_id))

    def entries(self, path: str | None = None) -> Iterator[ManifestEntry]:
        """Every entry of the batch, or (`path`) only those of the one page that can hold it."""
        pages = self.pages()
        if pages is None:  # storage v1
            for line in self.blobs.read(self.batch.manifest_id).splitlines():  # type: ignore[arg-type]
                yield self._entry(line, None)
            return
        if path is not None:
            page = self.page_of(path)
            pages = [page] if page is not None else []
        for page in pages:
            for line in self.blobs.read(page.manifest).splitlines():
                entry = self._entry(line, page)
                if path is None or entry.path == path:
                    yield entry

    def page_of(self, path: str) -> Page | None:
        """The one page that can hold `path` (None for a storage v1 batch or an empty one)."""
        pages = self.pages()
        if not pages:
            return None
        return pages[max(0, bisect.bisect_right([page.first for page in pages], path) - 1)]

    def _entry(self, line: bytes, page: Page | None) -> ManifestEntry:
        entry = ManifestEntry.from_line(line)
        entry.reader, entry.page = self, page
        return entry

    def block(self, page: Page | None) -> Block | None:
        if page is None or page.volatile is None:
            return None
        if page.volatile not in self._blocks:
            self._blocks[page.volatile] = Block(self.blobs.read(page.volatile))
        return self._blocks[page.volatile]

    def blocks(self) -> Iterator[Block]:
        """Every column block of the batch (for figures: each entity's row is in one of them)."""
        for page in self.pages() or []:
            block = self.block(page)
            if block is not None:
                yield block

    def body(self, entry: ManifestEntry) -> bytes | None:
        """The exact bytes received for one manifest entry (None when the request failed without a body)."""
        if entry.blob is None:
            return None
        template = self.blobs.read(entry.blob)
        if entry.offset is not None:  # storage v1: a slice of a pack
            template = template[entry.offset : entry.offset + (entry.length or 0)]
        if entry.items:
            self.blobs.prefetch(entry.items)
            template = join_list(template, [self.blobs.read(pk) for pk in entry.items])
        if entry.volatile is not None:
            block = self.block(entry.page)
            tokens = block.tokens(entry.volatile) if block is not None else []
        else:
            tokens = [token.encode("latin-1") for token in entry.tokens]
        return join_volatile(template, tokens)


def manifest_read(batch: Batch, reader: BatchReader | None = None) -> Iterator[ManifestEntry]:
    """The entries of a batch's manifest; `entry_body` reads them through one shared `BatchReader`."""
    yield from (reader or BatchReader(batch)).entries()


def entry_body(entry: ManifestEntry, contents: dict | None = None) -> bytes | None:
    """The exact bytes received for one manifest entry (None when the request failed without a body).

    `contents` is accepted for callers of storage v1 and unused: the entry's reader keeps what it decompressed."""
    if entry.reader is None:
        raise ValueError("a manifest entry is read through manifest_read()")
    return entry.reader.body(entry)
