"""Version fields stored compressed with a dictionary per source: lossless, small, readable by any process."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import zstandard as zstd
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from snapshots import fields_codec
from snapshots.entities import content_hash, model_observations
from snapshots.fields_codec import (
    DICTIONARY_SIZE,
    LEVEL,
    NO_DICTIONARY,
    TRAIN_D,
    TRAIN_K,
    TRAIN_MIN_SAMPLES,
    content_id,
    dictionary_create,
    fields_decode,
    fields_encode,
    fields_json,
)
from snapshots.models import EntityVersion, FieldsDictionary

FIELDS = {
    "id": "openai/gpt-4o",
    "name": "OpenAI: GPT-4o — omni",
    "pricing": {"prompt": "0.0000025", "completion": "0.00001"},
    "context_length": 128000,
    "supported_parameters": ["tools", "temperature", None, True, 1.5e-05],
}


def samples(count: int) -> list[bytes]:
    return [
        fields_json(FIELDS | {"id": f"vendor/model-{i}", "context_length": 1000 * i, "pricing": {"prompt": str(i)}})
        for i in range(count)
    ]


def forget_dictionaries() -> None:
    """What a new process knows: no dictionary and no codec (they come from the database)."""
    fields_codec._DICTIONARIES.clear()
    fields_codec._CODECS.compressors.clear()
    fields_codec._CODECS.decompressors.clear()


def stored_bytes(version_id: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT fields FROM snapshots_entityversion WHERE id = %s", [version_id])
        return bytes(cursor.fetchone()[0])


class TestCodec:
    def test_values_round_trip_exactly_with_and_without_a_dictionary(self, db):
        dictionary = dictionary_create(FieldsDictionary, "v1_models", samples(64))
        assert dictionary is not None
        for value in (FIELDS, {}, {"nested": [{"a": None}], "ünïcode": "✓"}):
            assert fields_decode(fields_encode(value)) == value
            assert fields_decode(fields_encode(value, dictionary)) == value

    def test_a_dictionary_makes_values_several_times_smaller(self, db):
        corpus = samples(200)
        dictionary = dictionary_create(FieldsDictionary, "v1_models", corpus)
        plain = sum(len(fields_encode(json.loads(s))) for s in corpus)
        packed = sum(len(fields_encode(json.loads(s), dictionary)) for s in corpus)
        assert packed * 3 < plain < sum(map(len, corpus))

    def test_too_few_samples_train_no_dictionary_and_store_nothing(self, db):
        assert dictionary_create(FieldsDictionary, "providers", samples(TRAIN_MIN_SAMPLES - 1)) is None
        assert not FieldsDictionary.objects.exists()

    def test_a_value_is_read_by_a_process_that_never_saw_its_dictionary(self, db):
        dictionary = dictionary_create(FieldsDictionary, "v1_models", samples(64))
        data = fields_encode(FIELDS, dictionary)
        forget_dictionaries()
        assert fields_decode(data) == FIELDS
        assert int.from_bytes(data[:4], "little") == dictionary.dict_id != NO_DICTIONARY

    def test_dictionaries_zstd_would_give_one_id_get_two_and_each_reads_its_own_values(self, db):
        # zstd's own id hashes only the raw content: these two share it with different entropy tables.
        trained = [
            zstd.train_dictionary(DICTIONARY_SIZE, samples(n), k=TRAIN_K, d=TRAIN_D, level=LEVEL) for n in (42, 43)
        ]
        assert trained[0].dict_id() == trained[1].dict_id() and trained[0].as_bytes() != trained[1].as_bytes()
        first, second = (dictionary_create(FieldsDictionary, "v1_models", samples(n)) for n in (42, 43))
        assert first is not None and second is not None and first.dict_id != second.dict_id
        for dictionary in (first, second):
            assert (
                zstd.ZstdCompressionDict(dictionary.data).dict_id() == dictionary.dict_id == content_id(dictionary.data)
            )
        values = {d: fields_encode(FIELDS | {"id": str(d.dict_id)}, d) for d in (first, second)}
        for dictionary, data in values.items():  # the same process, both codecs cached
            assert fields_decode(data)["id"] == str(dictionary.dict_id)
        forget_dictionaries()
        assert [fields_decode(data)["id"] for data in values.values()] == [str(first.dict_id), str(second.dict_id)]

    def test_a_dictionary_stored_under_a_taken_id_is_not_used_for_new_values(self, db):
        trained = dictionary_create(FieldsDictionary, "v1_models", samples(64))
        assert trained is not None
        FieldsDictionary.objects.filter(dict_id=trained.dict_id).update(data=b"stale bytes under the same id")
        forget_dictionaries()
        stored = dictionary_create(FieldsDictionary, "v1_models", samples(64))
        assert stored is not None and stored.data == b"stale bytes under the same id"

    def test_a_value_naming_an_unknown_dictionary_fails_loudly(self, db):
        dictionary = dictionary_create(FieldsDictionary, "v1_models", samples(64))
        data = fields_encode(FIELDS, dictionary)
        FieldsDictionary.objects.all().delete()
        forget_dictionaries()
        with pytest.raises(FieldsDictionary.DoesNotExist):
            fields_decode(data)
        with pytest.raises(ValueError, match="too short"):
            fields_decode(b"\x00\x00")


@pytest.mark.django_db
class TestIndexedVersions:
    def test_a_sync_stores_fields_compressed_with_a_dictionary_per_source(self, sync, catalogue):
        sync(0)
        dictionaries = dict(FieldsDictionary.objects.values_list("source", "dict_id"))
        counts = Counter(EntityVersion.objects.values_list("source", flat=True))
        assert {"v1_models", "endpoints"} <= dictionaries.keys()
        assert dictionaries.keys() == {source for source, count in counts.items() if count >= TRAIN_MIN_SAMPLES}
        for version in EntityVersion.objects.filter(source__in=dictionaries):
            raw = stored_bytes(version.pk)
            assert int.from_bytes(raw[:4], "little") == dictionaries[version.source]
            assert len(raw) * 2 < len(fields_json(version.fields))

    def test_fields_read_back_are_those_of_the_body(self, sync, catalogue):
        sync(0)
        observed = {o.key: o for o in model_observations(catalogue.body("/api/v1/models") or b"")}
        forget_dictionaries()
        versions = EntityVersion.objects.filter(entity__kind="model", source="v1_models").select_related("entity")
        assert len(versions) == len(observed) > TRAIN_MIN_SAMPLES
        for version in versions:
            assert version.fields == observed[version.entity.key].fields
            assert version.content_hash == content_hash(version.fields)

    def test_a_source_with_too_few_versions_is_stored_without_a_dictionary(self, sync, catalogue):
        sync(0)
        small = EntityVersion.objects.exclude(source__in=FieldsDictionary.objects.values("source"))
        counts = {s: small.filter(source=s).count() for s in small.values_list("source", flat=True).distinct()}
        assert counts and all(count < TRAIN_MIN_SAMPLES for count in counts.values())
        assert all(stored_bytes(pk)[:4] == b"\x00\x00\x00\x00" for pk in small.values_list("pk", flat=True))

    def test_later_hours_reuse_the_dictionaries(self, sync, catalogue):
        sync(0)
        before = set(FieldsDictionary.objects.values_list("dict_id", flat=True))
        catalogue.hour += 1
        model_id = next(m for m in catalogue.models if catalogue.endpoints.get(m))
        catalogue.set_endpoint(model_id, "pricing.prompt", "0.5")
        sync(1)
        assert set(FieldsDictionary.objects.values_list("dict_id", flat=True)) == before
        newest = EntityVersion.objects.filter(entity__kind="endpoint", entity__model_key=model_id).latest("id")
        assert newest.fields["pricing"]["prompt"] == "0.5"


@pytest.mark.django_db(transaction=True)
class TestMigration:
    """0005 packs the JSON of existing versions and unpacks it on the way back, value for value."""

    def migrate(self, target: str) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("snapshots", target)])

    def test_existing_versions_are_packed_and_unpacked_losslessly(self):
        self.migrate("0004_coverage")
        try:
            apps = MigrationExecutor(connection).loader.project_state(("snapshots", "0004_coverage")).apps
            batch = apps.get_model("snapshots", "Batch").objects.create(
                hour="2026-01-01T00:00Z", started_at="2026-01-01T00:00Z"
            )
            entity_model, version_model = (
                apps.get_model("snapshots", "Entity"),
                apps.get_model("snapshots", "EntityVersion"),
            )
            values = [json.loads(s) for s in samples(40)] + [{"ünïcode": "✓", "n": None}]
            for i, value in enumerate(values):
                entity = entity_model.objects.create(kind="model", key=f"m{i}", first_seen=batch, last_seen=batch)
                version_model.objects.create(
                    entity=entity, content_hash=str(i), source="v1_models", fields=value, first_batch=batch
                )
            self.migrate("0005_compressed_fields")
            forget_dictionaries()
            assert [v.fields for v in EntityVersion.objects.order_by("id")] == values
            assert FieldsDictionary.objects.filter(source="v1_models").count() == 1
            self.migrate("0004_coverage")
            with connection.cursor() as cursor:
                cursor.execute("SELECT fields FROM snapshots_entityversion ORDER BY id")
                rows = [row[0] for row in cursor.fetchall()]
            assert [json.loads(r) if isinstance(r, str) else r for r in rows] == values
        finally:
            executor = MigrationExecutor(connection)
            executor.migrate(executor.loader.graph.leaf_nodes())
