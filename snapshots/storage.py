"""Lossless, deduplicated raw storage: content-addressed zstd blobs, endpoint packs and one manifest per batch.

Each response body is split into a *template* (the body with the values of its volatile fields cut out) and the
list of those values' exact bytes (the *tokens*). Joining them gives back the received bytes exactly; the split is
checked by doing so before anything is stored, and a body that does not round-trip is stored whole.

Templates are content-addressed: an endpoint whose price did not change has the same template every hour whatever
its uptime did, so it costs nothing new. List bodies (`/api/v1/models`, …) are blobs of their own, compressed with
the previous body of the same source as a zstd prefix dictionary (a changed hour costs a few hundred bytes).
New endpoint templates of a batch are streamed into one *pack* blob: the first pack holds them all and compresses
like a single blob would; later packs hold only what changed and are compressed against that first pack, so a
reprice costs tens of bytes and no row per endpoint. The batch's manifest (one JSON line per response: path,
status, where its template is, its tokens) is a blob compressed against the previous batch's manifest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import zstandard as zstd

from snapshots.conf import setting
from snapshots.models import Batch, Blob

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
VOLATILE_VALUE = re.compile(rb'"(?:' + _KEYS + rb')"\s*:\s*(-?[0-9][0-9.eE+-]*|null|true|false|' + _FLAT_OBJECT + rb")")
LARGE = 1 << 20
PLACEHOLDER = b"\x00"
MANIFEST_CHAIN = 24  # a manifest is a delta of the previous one, for a day; then of the day's keyframe
PACK_HINT = 1 << 23  # sizes the window of a pack's stream: a few MB of templates


def sha256(content: bytes) -> bytes:
    return hashlib.sha256(content).digest()


def split_volatile(body: bytes) -> tuple[bytes, list[bytes]]:
    """(template, tokens) such that `join_volatile(template, tokens) == body`, or (body, []) if no round trip.

    Each cut value is replaced by a NUL byte, which valid JSON text never contains unescaped."""
    if PLACEHOLDER in body:
        return body, []
    tokens: list[bytes] = []
    parts: list[bytes] = []
    last = 0
    for match in VOLATILE_VALUE.finditer(body):
        parts.append(body[last : match.start(1)])
        tokens.append(match.group(1))
        last = match.end(1)
    if not tokens:
        return body, []
    parts.append(body[last:])
    template = PLACEHOLDER.join(parts)
    if join_volatile(template, tokens) != body:
        return body, []
    return template, tokens


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


def _dictionary(prefix: bytes | None) -> zstd.ZstdCompressionDict | None:
    return zstd.ZstdCompressionDict(prefix, dict_type=zstd.DICT_TYPE_RAWCONTENT) if prefix else None


def _compressor(size: int, prefix: bytes | None) -> zstd.ZstdCompressor:
    dict_data = _dictionary(prefix)
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
    return _compressor(len(content), prefix).compress(content)


def blob_read(blob: Blob) -> bytes:
    """The content of a blob: its frame, decompressed against its reference's content when it is a delta."""
    prefix = None
    if blob.reference_id is not None:
        prefix = blob_read(Blob.objects.only("data", "size", "reference_id").get(pk=blob.reference_id))
    return zstd.ZstdDecompressor(dict_data=_dictionary(prefix), max_window_size=1 << 27).decompress(
        bytes(blob.data), max_output_size=blob.size
    )


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
        delta = compress(content, blob_read(base))
        # A delta bigger than half its keyframe means the source drifted: start a new keyframe instead.
        if len(delta) * 2 <= max(len(keyframe.data), 64):
            data, reference = delta, base
    if data is None:
        data = compress(content)
    depth = reference.depth + 1 if reference is not None else 0
    blob = Blob.objects.create(sha256=digest, size=len(content), data=data, reference=reference, role=role, depth=depth)
    return blob, True


class PackWriter:
    """Streams the new endpoint templates of a batch into one blob, never holding them all.

    The first pack is a keyframe; later packs are compressed against the newest keyframe pack, which holds an
    earlier version of nearly every template that changes.
    """

    def __init__(self):
        self.size = 0
        self._chunks: list[bytes] = []
        self._hash = hashlib.sha256()
        self._compressor = None
        self._reference = None

    def _open(self) -> None:
        keyframes = Blob.objects.filter(role=Blob.Role.PACK, reference__isnull=True)
        self._reference = keyframes.only("data", "size").order_by("-id").first()
        prefix = blob_read(self._reference) if self._reference else None
        self._compressor = _compressor(PACK_HINT, prefix).compressobj()

    def add(self, template: bytes) -> int:
        """Append a template; its offset in the pack."""
        if self._compressor is None:
            self._open()
        offset = self.size
        self._chunks.append(self._compressor.compress(template))
        self._hash.update(template)
        self.size += len(template)
        return offset

    def close(self) -> Blob | None:
        if self._compressor is None:
            return None
        self._chunks.append(self._compressor.flush())
        digest = self._hash.digest()
        existing = Blob.objects.filter(sha256=digest).first()
        if existing is not None:
            return existing
        return Blob.objects.create(
            sha256=digest,
            size=self.size,
            data=b"".join(self._chunks),
            reference=self._reference,
            role=Blob.Role.PACK,
            depth=1 if self._reference else 0,
        )


# --- manifest -------------------------------------------------------------------------------------------------------


@dataclass
class ManifestEntry:
    path: str
    kind: str
    status: int
    blob: int | None = None  # the Blob holding the template
    offset: int | None = None  # where the template is in a pack (None: the whole blob)
    length: int | None = None
    digest: str = ""  # sha256 of the template (first 128 bits, hex): what dedup compares
    tokens: list[str] = field(default_factory=list)
    size: int = 0  # bytes received (not written: the template and tokens give it back)
    error: str = ""

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
    }

    def line(self) -> bytes:
        data = {short: getattr(self, name) for short, name in self.KEYS.items()}
        return json.dumps({k: v for k, v in data.items() if v not in (None, "", [])}, separators=(",", ":")).encode()

    @classmethod
    def from_line(cls, line: bytes) -> ManifestEntry:
        return cls(**{cls.KEYS[short]: value for short, value in json.loads(line).items()})


def manifest_store(entries: list[ManifestEntry], previous: Batch | None) -> Blob:
    content = b"\n".join(entry.line() for entry in sorted(entries, key=lambda e: e.path))
    previous_id = previous.manifest_id if previous else None
    blob, _ = blob_store(content, previous_id=previous_id, role=Blob.Role.MANIFEST, max_depth=MANIFEST_CHAIN)
    return blob


def manifest_read(batch: Batch) -> Iterator[ManifestEntry]:
    if batch.manifest_id is None:
        return
    for line in blob_read(batch.manifest).splitlines():
        yield ManifestEntry.from_line(line)


def entry_body(entry: ManifestEntry, contents: dict[int, bytes] | None = None) -> bytes | None:
    """The exact bytes received for one manifest entry (None when the request failed without a body).

    `contents` (blob id → content) keeps decompressed packs between calls, for reading a whole batch."""
    if entry.blob is None:
        return None
    contents = {} if contents is None else contents
    if entry.blob not in contents:
        if len(contents) >= 4:
            contents.pop(next(iter(contents)))
        contents[entry.blob] = blob_read(Blob.objects.only("data", "size", "reference_id").get(pk=entry.blob))
    content = contents[entry.blob]
    template = content if entry.offset is None else content[entry.offset : entry.offset + entry.length]
    return join_volatile(template, [token.encode("latin-1") for token in entry.tokens])
