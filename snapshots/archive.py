"""The archive side of a sync: each response's template stored once, the batch's manifest lines (see storage.py)."""

from __future__ import annotations

from snapshots.crawl import Fetched
from snapshots.entities import ENDPOINTS
from snapshots.models import Batch, Blob
from snapshots.storage import (
    ManifestEntry,
    PackWriter,
    blob_store,
    manifest_read,
    manifest_store,
    sha256,
    split_volatile,
)


class Archive:
    """Stores each response's template once and keeps the batch's manifest lines (see storage.py)."""

    def __init__(self, previous: Batch | None):
        self.previous = previous
        self.previous_blob: dict[str, int] = {}  # path -> blob of its last whole body (list sources)
        self.known: dict[str, tuple[int | None, int | None, int | None]] = {}  # digest -> (blob, offset, length)
        for entry in manifest_read(previous) if previous else ():
            if entry.blob is not None:
                self.known[entry.digest] = (entry.blob, entry.offset, entry.length)
                if entry.offset is None:
                    self.previous_blob[entry.path] = entry.blob
        self.entries: list[ManifestEntry] = []
        self.pack = PackWriter()
        self.packed: list[ManifestEntry] = []  # entries whose template is in this batch's pack
        self.stats = {"responses": 0, "raw_bytes": 0, "new_blobs": 0, "new_blob_bytes": 0, "packed": 0}

    def add(self, kind: str, fetched: Fetched) -> None:
        self.stats["responses"] += 1
        entry = ManifestEntry(fetched.path, kind, fetched.status, error=fetched.error)
        self.entries.append(entry)
        if fetched.body is None:
            return
        template, tokens = split_volatile(fetched.body)
        entry.tokens = [token.decode("latin-1") for token in tokens]
        entry.size = len(fetched.body)
        entry.digest = sha256(template)[:16].hex()
        self.stats["raw_bytes"] += len(fetched.body)
        known = self.known.get(entry.digest)
        if known is not None:  # the usual hour: the same template as before, whatever the volatile figures did
            entry.blob, entry.offset, entry.length = known
            if entry.blob is None:
                self.packed.append(entry)
            return
        if kind == ENDPOINTS:
            entry.offset, entry.length = self.pack.add(template), len(template)
            self.packed.append(entry)
            self.stats["packed"] += 1
        else:
            blob, created = blob_store(template, previous_id=self.previous_blob.get(fetched.path))
            entry.blob = blob.pk
            self._count(blob, created)
        self.known[entry.digest] = (entry.blob, entry.offset, entry.length)

    def _count(self, blob: Blob, created: bool) -> None:
        if created:
            self.stats["new_blobs"] += 1
            self.stats["new_blob_bytes"] += len(blob.data)

    def finish(self) -> Blob:
        pack = self.pack.close()
        if pack is not None:
            self._count(pack, True)
            for entry in self.packed:
                entry.blob = pack.pk
        manifest = manifest_store(self.entries, self.previous)
        self.stats["manifest_bytes"] = len(manifest.data)
        return manifest
