"""The archive side of a sync: each response stored as records and columns, the batch's manifest (see storage.py)."""

from __future__ import annotations

import bisect
import json
import zlib
from collections.abc import Iterator

from snapshots.columns import BlockWriter, EntityTokens
from snapshots.conf import setting
from snapshots.crawl import Fetched
from snapshots.entities import ENDPOINTS, endpoint_key
from snapshots.frames import BlobReader
from snapshots.models import Batch, Blob, Entity, EntityKind
from snapshots.records import RecordWriter, item_keys, list_spans
from snapshots.storage import (
    MANIFEST_CHAIN,
    PAGE_ENTRIES,
    VOLATILE_KEYS,
    BatchReader,
    ManifestEntry,
    Page,
    batch_pages,
    blob_store,
    page_store,
    sha256,
    split_volatile_fields,
)


def _is_cut(value) -> bool:
    """Whether `split_volatile` cuts this value out: a scalar, or an object of scalars."""
    if isinstance(value, dict):
        return all(not isinstance(v, dict | list | str) for v in value.values())
    return not isinstance(value, list | str)


class Archive:
    """Stores each response as records (once, against their previous version) and its volatile figures as columns."""

    def __init__(self, previous: Batch | None):
        self.previous = previous
        self.blobs = BlobReader()
        self.records = RecordWriter(self.blobs, setting("SNAPSHOTS_ZSTD_LEVEL"))
        self.last: dict[tuple[str, str], Blob] = {}  # (path, item key or "") -> its record in the previous batch
        self.entries: list[ManifestEntry] = []
        self.volatile: dict[int, tuple[list[str], list[bytes], list[tuple[str, int, int]]]] = {}
        self.stats = {"responses": 0, "raw_bytes": 0, "new_blobs": 0, "new_blob_bytes": 0}
        self.volatile_blob: Blob | None = None
        self.stored: dict[int, tuple[Blob, list[Blob]]] = {}  # entry -> (its record, its items' records)
        if previous is not None:
            self._remember(previous)

    def _remember(self, previous: Batch) -> None:
        reader = BatchReader(previous, self.blobs)
        entries = list(reader.entries())
        ids = {pk for e in entries for pk in ([e.blob] if e.blob else []) + e.items}
        rows = list(Blob.objects.filter(pk__in=ids).values("id", "sha256", "size", "depth"))
        self.records.remember(rows)
        by_id = {row["id"]: self.records.known[bytes(row["sha256"])] for row in rows}
        for entry in entries:
            if entry.blob is None or entry.offset is not None:
                continue  # storage v1 packs are not records: their content starts new keyframes
            self.last[(entry.path, "")] = by_id[entry.blob]
            if entry.items:  # the writer reads the previous list's items to know their keys (reads never need them)
                self.blobs.prefetch(entry.items)
                keys = item_keys(self.blobs.read(pk)[:4096] for pk in entry.items)
                self.records.grouped.add(entry.path)
                for key, pk in zip(keys, entry.items, strict=True):
                    self.last[(entry.path, key)] = by_id[pk]

    def _record(self, path: str, key: str, content: bytes, group: str = "") -> Blob:
        return self.records.store(content, sha256(content), self.last.get((path, key)), group)

    def add(self, kind: str, fetched: Fetched) -> None:
        self.stats["responses"] += 1
        entry = ManifestEntry(fetched.path, kind, fetched.status, error=fetched.error)
        self.entries.append(entry)
        if fetched.body is None:
            return
        body = fetched.body
        self.stats["raw_bytes"] += len(body)
        template, tokens, fields = split_volatile_fields(body)
        entry.size = len(body)
        if tokens:
            groups = self._endpoint_groups(body, fields) if kind == ENDPOINTS else []
            self.volatile[id(entry)] = (fields, tokens, groups)
        listed = list_spans(template) if kind != ENDPOINTS else None
        if listed is None:
            self.stored[id(entry)] = (self._record(entry.path, "", template), [])
            return
        list_template, spans = listed
        keys = item_keys(template[b : min(e, b + 4096)] for b, e in spans)
        records = [
            self._record(entry.path, key, template[b:e], group=entry.path)
            for key, (b, e) in zip(keys, spans, strict=True)
        ]
        self.stored[id(entry)] = (self._record(entry.path, "", list_template), records)

    @staticmethod
    def _endpoint_groups(body: bytes, fields: list[str]) -> list[tuple[str, int, int]]:
        """(endpoint key, first token, token count) of each endpoint, when the tokens follow the endpoints exactly."""
        try:
            data = json.loads(body)["data"]
            model_id, endpoints = data["id"], data.get("endpoints") or []
        except (ValueError, KeyError, TypeError):
            return []
        groups, position, seen = [], 0, set()
        for endpoint in endpoints:
            key, _ = endpoint_key(model_id, endpoint)
            while key in seen:  # as entities.endpoint_observations names a repeated tag
                key += "+"
            seen.add(key)
            names = [name for name, value in endpoint.items() if name in VOLATILE_KEYS and _is_cut(value)]
            if fields[position : position + len(names)] != names:
                return []
            groups.append((key, position, len(names)))
            position += len(names)
        return groups if position == len(fields) else []

    def finish(self) -> Blob:
        """Write the batch's segments, then its pages (manifest lines and column block) and their index.

        The index is the batch's manifest; `volatile_blob` is the same index when any page has figures."""
        for segment in self.records.finish():
            self._count(segment)
        self.entries.sort(key=lambda e: e.path)
        for entry in self.entries:  # the records' ids, known now that their segments are written
            if id(entry) in self.stored:
                record, items = self.stored[id(entry)]
                entry.blob, entry.items = record.pk, [item.pk for item in items]
        endpoints = [key for found in self.volatile.values() for key, *_ in found[2]]
        ids = dict(Entity.objects.filter(kind=EntityKind.ENDPOINT, key__in=endpoints).values_list("key", "id"))
        before = batch_pages(self.previous, self.blobs)
        starts = [page.first for page in before]
        pages = []
        self.stats["manifest_bytes"] = self.stats["volatile_bytes"] = 0
        for chunk in _pages(self.entries):
            # The previous batch's page holding this page's first path: the same paths, mostly.
            at = bisect.bisect_right(starts, chunk[0].path) - 1
            pages.append(self._page(chunk, before[at] if at >= 0 else None, ids))
        index, _ = blob_store(Page.index(pages), role=Blob.Role.MANIFEST)
        self.stats["manifest_bytes"] += len(index.data)
        self.volatile_blob = index if any(page.volatile for page in pages) else None
        self.stats.update(self.records.stats)
        self.stats["new_blobs"] += self.records.stats["delta_frames"]
        self.stats["new_blob_bytes"] += self.records.stats["delta_frame_bytes"]
        return index

    def _page(self, entries: list[ManifestEntry], previous: Page | None, ids: dict[str, int]) -> Page:
        block = BlockWriter()
        for entry in entries:
            found = self.volatile.get(id(entry))
            if found is not None:
                fields, tokens, groups = found
                entry.volatile = block.add(fields, tokens)
                block.rows += [EntityTokens(ids[key], entry.volatile, s, n) for key, s, n in groups if key in ids]
        volatile = None
        if block.entry_shapes:
            blob, created = blob_store(
                block.encode(),
                previous_id=previous.volatile if previous else None,
                role=Blob.Role.COLUMNS,
                max_depth=MANIFEST_CHAIN,
                reader=self.blobs,
            )
            self.stats["volatile_bytes"] += len(blob.data) if created else 0
            volatile = blob.pk
        lines = [entry.line() for entry in entries]
        manifest = page_store(lines, previous.manifest if previous else None, self.blobs)
        self.stats["manifest_bytes"] += len(manifest.data)
        return Page(entries[0].path, manifest.pk, volatile)

    def _count(self, blob: Blob) -> None:
        self.stats["new_blobs"] += 1
        self.stats["new_blob_bytes"] += len(blob.data)


def _pages(entries: list[ManifestEntry]) -> Iterator[list[ManifestEntry]]:
    """Entries cut into pages where a path's hash says so (about PAGE_ENTRIES each, at most 4 times that), so a path
    added or gone moves no other page's boundaries and each page is a small delta of its previous version."""
    page: list[ManifestEntry] = []
    for entry in entries:
        boundary = zlib.crc32(entry.path.encode()) % PAGE_ENTRIES == 0
        if page and (boundary or len(page) >= 4 * PAGE_ENTRIES):
            yield page
            page = []
        page.append(entry)
    if page:
        yield page
