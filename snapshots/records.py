"""Records: the pieces a body is stored as, each stored once and against its own previous version.

A list body (`/api/v1/models`, the frontend list, providers) is split into its items' exact bytes and a *list
template* (the body with each item replaced by ITEM); an item's previous version is the item with the same id in
the same source's previous list, so a changed model costs a delta of its own record and an unchanged one nothing.
Endpoint bodies are one record each (their template, volatile figures cut out). A record with a previous version
is a small delta frame against it while its chain is shorter than MAX_DEPTH (a periodic keyframe keeps reads
short); any other record is a keyframe, written into the batch's segments (see frames.py). The changed items of a
list are one *group* frame compressed against their previous versions laid end to end (a list is read whole
anyway): similar items share one context and each item's match sits at the same distance, which zstd codes in a
few bits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from snapshots.frames import LIST_SEGMENT_SIZE, SEGMENT_SIZE, BlobReader, SegmentWriter, delta_compress, group_data
from snapshots.models import Blob

ITEM = b"\x01"
MAX_DEPTH = 24  # a record is a delta of its previous version at most this many times in a row, then a keyframe
GROUP_SIZE = 2 << 20  # bytes of changed items and their previous versions per group frame
_SCAN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_KEY = re.compile(rb'"(?:id|slug)"\s*:\s*"((?:[^"\\]|\\.){1,300})"')
_DATA = re.compile(rb'"data"\s*:\s*\[')


def split_list(body: bytes) -> tuple[bytes, list[bytes]] | None:
    """(list template, items) of `{"data": [...]}` or of a bare `[...]`, or None when the body is not such a list."""
    found = list_spans(body)
    if found is None:
        return None
    template, spans = found
    return template, [body[b:e] for b, e in spans]


def list_spans(body: bytes) -> tuple[bytes, list[tuple[int, int]]] | None:
    """(list template, where each item is in `body`): the items are cut one at a time, never all held at once.

    The template is the bytes between the items, so template and items give back the body exactly by construction
    (the body holds no ITEM byte; the count of slots is checked)."""
    if ITEM in body:
        return None
    stripped = body.lstrip()
    if stripped[:1] == b"[":
        start = len(body) - len(stripped)
    else:
        match = _DATA.search(body)
        if match is None:
            return None
        start = match.end() - 1
    spans, depth, item_start = [], 0, None
    for token in _SCAN.finditer(body, start):
        char = token.group(0)[:1]
        if char == b'"':
            continue
        if char in b"[{":
            depth += 1
            if depth == 2 and item_start is None:
                item_start = token.start()
        else:
            depth -= 1
            if depth == 1 and item_start is not None:
                spans.append((item_start, token.end()))
                item_start = None
            if depth == 0:
                break
    if not spans:
        return None
    parts, last = [], 0
    for begin, end in spans:
        parts.append(body[last:begin])
        last = end
    parts.append(body[last:])
    template = ITEM.join(parts)
    if template.count(ITEM) != len(spans):
        return None
    return template, spans


def join_list(template: bytes, items: list[bytes]) -> bytes:
    parts = template.split(ITEM)
    if len(parts) != len(items) + 1:
        raise ValueError(f"list template has {len(parts) - 1} slots for {len(items)} items")
    out = [parts[0]]
    for item, part in zip(items, parts[1:], strict=True):
        out += [item, part]
    return b"".join(out)


def item_keys(items: Iterable[bytes]) -> list[str]:
    """A stable key per item (its `id` or `slug`, else its position), unique within the list."""
    keys, seen = [], set()
    for position, item in enumerate(items):
        match = _KEY.search(item[:4096])
        key = match.group(1).decode("utf-8", "replace") if match else f"#{position}"
        while key in seen:
            key += "+"
        seen.add(key)
        keys.append(key)
    return keys


class RecordWriter:
    """Stores the records of one batch: each once (by hash), as a delta of its previous version or as a keyframe."""

    def __init__(self, reader: BlobReader, level: int):
        self.reader = reader
        self.level = level
        self.segments = SegmentWriter(level, SEGMENT_SIZE)
        self.list_segments = SegmentWriter(level, LIST_SEGMENT_SIZE, context=self.segments)
        self.groups: dict[str, list[tuple[Blob, bytes, Blob | None]]] = {}  # group -> (new record, content, previous)
        self.grouped: set[str] = set()  # groups that may hold new items: their list has a previous version
        self.known: dict[bytes, Blob] = {}  # sha256 -> row (saved, or waiting in a segment)
        self.depths: dict[int, int] = {}
        # records written, as deltas (alone or in groups) or keyframes; frames of one delta record and their bytes
        self.stats = {"records": 0, "deltas": 0, "keyframes": 0, "delta_frames": 0, "delta_frame_bytes": 0}

    def remember(self, rows: list) -> None:
        """Rows of the previous batch's records (id, sha256, depth): known content costs nothing."""
        for row in rows:
            blob = Blob(pk=row["id"], sha256=row["sha256"], size=row["size"], depth=row["depth"])
            self.known[bytes(row["sha256"])] = blob

    def store(self, content: bytes, digest: bytes, previous: Blob | None, group: str = "") -> Blob:
        """The record of `content`: known, or new (in `group` when set: a list's items, see the module)."""
        blob = self.known.get(digest)
        if blob is None:
            blob = Blob.objects.filter(sha256=digest).only("id", "size", "depth").first()
        if blob is None:
            blob = self._new(content, digest, previous, group)
        self.known[digest] = blob
        return blob

    def _new(self, content: bytes, digest: bytes, previous: Blob | None, group: str) -> Blob:
        self.stats["records"] += 1
        usable = previous is not None and previous.pk is not None and previous.depth < MAX_DEPTH
        if group:
            record = Blob(sha256=digest, size=len(content), data=b"", role=Blob.Role.RECORD, depth=0)
            if usable or (previous is None and group in self.grouped):
                self.groups.setdefault(group, []).append((record, content, previous if usable else None))
            else:
                self.stats["keyframes"] += 1
                self.list_segments.add(record, content)
            return record
        if previous is not None and previous.pk is not None and previous.depth < MAX_DEPTH:
            delta = delta_compress(content, self.reader.read(previous.pk), self.level)
            if len(delta) * 3 < len(content):
                self.stats["deltas"] += 1
                self.stats["delta_frames"] += 1
                self.stats["delta_frame_bytes"] += len(delta)
                return Blob.objects.create(
                    sha256=digest,
                    size=len(content),
                    data=delta,
                    reference=previous,
                    role=Blob.Role.DELTA,
                    depth=previous.depth + 1,
                )
        self.stats["keyframes"] += 1
        record = Blob(sha256=digest, size=len(content), data=b"", role=Blob.Role.RECORD, depth=0)
        self.segments.add(record, content)
        return record

    def finish(self) -> list[Blob]:
        """Write the last segments and the groups; every frame written (their records now have ids)."""
        self.segments.flush()
        self.list_segments.flush()
        frames = [b for b in self.segments.blobs + self.list_segments.blobs if b.role != Blob.Role.RECORD]
        for members in self.groups.values():
            chunk: list[tuple[Blob, bytes, Blob | None]] = []
            size = 0
            for member in members:  # groups of GROUP_SIZE at most: bounded memory, and reads of bounded cost
                if chunk and size + len(member[1]) + (member[2].size if member[2] else 0) > GROUP_SIZE:
                    frames.append(self._group(chunk))
                    chunk, size = [], 0
                chunk.append(member)
                size += len(member[1]) + (member[2].size if member[2] else 0)
            if chunk:
                frames.append(self._group(chunk))
        return frames

    def _group(self, members: list[tuple[Blob, bytes, Blob | None]]) -> Blob:
        previous = [prev for _, _, prev in members if prev is not None]
        prefix = b"".join(self.reader.read(prev.pk) for prev in previous)
        content = b"".join(chunk for _, chunk, _ in members)
        depth = max((prev.depth for prev in previous), default=-1) + 1
        group = Blob.objects.create(
            sha256=hashlib.sha256(b"group:" + content).digest(),
            size=len(content),
            data=group_data([prev.pk for prev in previous], delta_compress(content, prefix, self.level)),
            role=Blob.Role.GROUP,
            depth=depth,
        )
        offset = 0
        for record, chunk, _ in members:
            record.segment, record.offset, record.depth = group, offset, depth
            offset += len(chunk)
        Blob.objects.bulk_create([record for record, _, _ in members])
        self.stats["deltas"] += len(members)
        return group
