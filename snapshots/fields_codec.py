"""Entity version fields stored as small zstd frames, compressed with a dictionary trained per response kind.

A version's fields are a few hundred bytes of JSON sharing their keys and most of their values with every other
entity from the same response kind: compressed alone, zstd finds little to remove (~0.53 of the JSON); against an
8 KB dictionary trained on a few dozen of them, ~0.15. The dictionaries are rows of `FieldsDictionary` (the index
counts them), one current per source, trained by the indexer from the first versions it writes (see indexing.py);
a new one can be trained any time and older values keep theirs, as each value names its dictionary.

A stored value is 4 bytes (little-endian) naming the dictionary by its id (0: none), then a magicless zstd frame
without checksum, content size or dictionary id. The id is written into the dictionary's header and derived from all
its other bytes (`content_id`), so a cached dictionary can never be mistaken for another one, whatever database or
transaction it came from. zstd's own id is not enough: it hashes only the dictionary's raw content, not its entropy
tables, and two dictionaries trained on 42 and 43 near-identical samples share it with different bytes — a value
written with one then read with the other fails as "data corruption" (seen once in CI).
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import zstandard as zstd
from django.db import models

# Level 9: on the real catalogue's 1,395 versions 2% larger than level 19, ten times faster (0.1 s against 1 s).
LEVEL = 9
# COVER's segment and d-mer sizes, fixed: its search over them took 3 s for six sources, for 1% smaller values.
TRAIN_K, TRAIN_D = 512, 8
DICTIONARY_SIZE = 8 * 1024
TRAIN_MIN_SAMPLES = 16  # fewer than this and zstd cannot train (its values are stored without a dictionary)
TRAIN_MAX_SAMPLES = 256
TRAIN_MAX_BYTES = 512 * 1024
HEADER = struct.Struct("<I")
NO_DICTIONARY = 0
# A dictionary's header: magic number, then its id (little-endian); ids below 32768 and from 2**31 are reserved.
DICT_ID_AT = slice(4, 8)
DICT_ID_MIN, DICT_ID_END = 32768, 2**31


@dataclass(frozen=True)
class Dictionary:
    """A trained zstd dictionary (its digested form is built once per process, its codecs once per thread)."""

    dict_id: int
    data: bytes

    @cached_property
    def zstd_dict(self) -> zstd.ZstdCompressionDict:
        return zstd.ZstdCompressionDict(self.data, dict_type=zstd.DICT_TYPE_FULLDICT)


class _Codecs(threading.local):
    """Compressors and decompressors by dictionary (None: none): zstd contexts must not be shared between threads.

    Keyed by the dictionary itself (its id and bytes), not by its id alone: a dictionary stored before ids were
    content-derived may share its id with another one (in another database, say), and must never get its codec."""

    def __init__(self) -> None:
        self.compressors: dict[Dictionary | None, zstd.ZstdCompressor] = {}
        self.decompressors: dict[Dictionary | None, zstd.ZstdDecompressor] = {}


_CODECS = _Codecs()
_DICTIONARIES: dict[int, Dictionary] = {}  # by id: derived from all its bytes, so never stale


def _compressor(dictionary: Dictionary | None) -> zstd.ZstdCompressor:
    compressor = _CODECS.compressors.get(dictionary)
    if compressor is None:
        params = zstd.ZstdCompressionParameters.from_level(
            LEVEL,
            source_size=4096,  # values are small: small match tables, so a compressor costs little memory
            format=zstd.FORMAT_ZSTD1_MAGICLESS,
            write_checksum=0,
            write_dict_id=0,
            write_content_size=0,
        )
        dict_data = dictionary.zstd_dict if dictionary is not None else None
        compressor = _CODECS.compressors[dictionary] = zstd.ZstdCompressor(
            compression_params=params, dict_data=dict_data
        )
    return compressor


def _decompressor(dict_id: int) -> zstd.ZstdDecompressor:
    dictionary = dictionary_get(dict_id) if dict_id != NO_DICTIONARY else None
    decompressor = _CODECS.decompressors.get(dictionary)
    if decompressor is None:
        dict_data = dictionary.zstd_dict if dictionary is not None else None
        decompressor = zstd.ZstdDecompressor(dict_data=dict_data, format=zstd.FORMAT_ZSTD1_MAGICLESS)
        _CODECS.decompressors[dictionary] = decompressor
    return decompressor


def fields_json(fields: dict) -> bytes:
    # surrogatepass (and back in fields_decode): a lone surrogate in a real answer ("\ud83d", an emoji cut by
    # JavaScript) survives the round trip; any other text is plain UTF-8.
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


def fields_encode(fields: dict, dictionary: Dictionary | None = None) -> bytes:
    header = HEADER.pack(dictionary.dict_id if dictionary is not None else NO_DICTIONARY)
    return header + _compressor(dictionary).compress(fields_json(fields))


def fields_decode(data: bytes | memoryview) -> dict:
    data = bytes(data)
    if len(data) < HEADER.size:
        raise ValueError(f"a compressed fields value of {len(data)} bytes: too short to name its dictionary")
    (dict_id,) = HEADER.unpack_from(data)
    text = _decompressor(dict_id).decompressobj().decompress(data[HEADER.size :]).decode("utf-8", "surrogatepass")
    return json.loads(text)


def dictionary_get(dict_id: int) -> Dictionary:
    """A dictionary by its zstd id: from this process's cache, else from the database (once)."""
    dictionary = _DICTIONARIES.get(dict_id)
    if dictionary is None:
        from snapshots.models import FieldsDictionary  # models.py uses this module's field

        data = FieldsDictionary.objects.values_list("data", flat=True).get(dict_id=dict_id)
        dictionary = dictionary_register(dict_id, bytes(data))
    return dictionary


def content_id(data: bytes) -> int:
    """The id a dictionary's bytes give it: a hash of all of them but the id's own four (entropy tables included)."""
    digest = hashlib.sha256(data[: DICT_ID_AT.start] + data[DICT_ID_AT.stop :]).digest()
    return DICT_ID_MIN + int.from_bytes(digest[:8], "little") % (DICT_ID_END - DICT_ID_MIN)


def dictionary_register(dict_id: int, data: bytes) -> Dictionary:
    """Make a dictionary known to this process (what reading its values needs)."""
    dictionary = _DICTIONARIES.get(dict_id)
    if dictionary is None or dictionary.data != data:
        dictionary = _DICTIONARIES[dict_id] = Dictionary(dict_id, data)
    return dictionary


def training_set(samples: list[bytes]) -> list[bytes]:
    """The first samples, at most TRAIN_MAX_SAMPLES of them and TRAIN_MAX_BYTES in all (training time stays short)."""
    chosen, total = [], 0
    for sample in samples[:TRAIN_MAX_SAMPLES]:
        total += len(sample)
        if total > TRAIN_MAX_BYTES and chosen:
            break
        chosen.append(sample)
    return chosen


def dictionary_train(samples: list[bytes]) -> Dictionary | None:
    """A dictionary trained on `samples` (fields as JSON), or None when they are too few or too alike to train on."""
    samples = training_set(samples)
    if len(samples) < TRAIN_MIN_SAMPLES:
        return None
    try:
        trained = zstd.train_dictionary(DICTIONARY_SIZE, samples, k=TRAIN_K, d=TRAIN_D, level=LEVEL)
    except zstd.ZstdError:
        return None
    raw = trained.as_bytes()
    dict_id = content_id(raw)  # the same before and after the id is written: its own bytes are not hashed
    data = raw[: DICT_ID_AT.start] + dict_id.to_bytes(4, "little") + raw[DICT_ID_AT.stop :]
    return dictionary_register(dict_id, data)


class DictionaryFields(dict):
    """Fields to be written compressed with `dictionary`: a dict like any other for every reader."""

    def __init__(self, fields: dict, dictionary: Dictionary | None):
        super().__init__(fields)
        self.dictionary = dictionary


class CompressedJSONField(models.BinaryField):
    """A JSON object stored as a compressed frame (bytea): Python code reads and writes a dict.

    No JSON lookups (`fields__pricing`): the database sees bytes. A plain dict is written without a dictionary;
    a `DictionaryFields` with its dictionary."""

    description = "A JSON object, zstd-compressed"
    # What django-stubs types the attribute as (a BinaryField's would be bytes).
    _pyi_private_set_type: dict[str, Any] | None
    _pyi_private_get_type: dict[str, Any]
    empty_strings_allowed = False  # no b"" default: an unset value is None, as with JSONField

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> dict | None:
        return None if value is None else fields_decode(value)

    def to_python(self, value: Any) -> dict | None:
        if value is None or isinstance(value, dict):
            return value
        if isinstance(value, str):
            return json.loads(value)
        return fields_decode(value)

    def get_prep_value(self, value: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, bytes | memoryview):
            return bytes(value)
        return fields_encode(value, value.dictionary if isinstance(value, DictionaryFields) else None)

    def value_to_string(self, obj: models.Model) -> str:
        """Serialized (dumpdata) as its JSON, not as base64 bytes."""
        return fields_json(self.value_from_object(obj)).decode("utf-8", "surrogatepass")


def dictionaries_current(dictionary_model: type[models.Model]) -> dict[str, Dictionary]:
    """The newest dictionary of each source, the one its new versions are written with.

    `dictionary_model` is `FieldsDictionary`, or its historical model in a migration. A few rows of a few KB: read
    whole and picked in Python, so this works on every database."""
    newest: dict[str, tuple[int, bytes]] = {}
    for source, dict_id, data in dictionary_model.objects.order_by("id").values_list(  # type: ignore[attr-defined]
        "source", "dict_id", "data"
    ):
        newest[source] = (dict_id, bytes(data))
    return {source: dictionary_register(dict_id, data) for source, (dict_id, data) in newest.items()}


def dictionary_create(dictionary_model: type[models.Model], source: str, samples: list[bytes]) -> Dictionary | None:
    """Train a dictionary on `samples` of `source` and store it (None when they are too few to train on).

    Call it inside the transaction that writes the first values compressed with it: if that rolls back, no value
    names a dictionary that was never stored."""
    dictionary = dictionary_train(samples)
    if dictionary is not None:
        used = len(training_set(samples))
        stored, _ = dictionary_model.objects.get_or_create(  # type: ignore[attr-defined]
            dict_id=dictionary.dict_id, defaults={"source": source, "data": dictionary.data, "samples": used}
        )
        if bytes(stored.data) != dictionary.data:
            # Another dictionary under the same id (one stored before ids were content-derived): values are
            # written with the stored one, as they are read with it.
            dictionary = dictionary_register(stored.dict_id, bytes(stored.data))
    return dictionary
