from django.db import migrations, models

import snapshots.fields_codec
from snapshots.fields_codec import (
    TRAIN_MAX_SAMPLES,
    DictionaryFields,
    dictionary_create,
    dictionary_register,
    fields_json,
)

CHUNK = 1000


def pack_fields(apps, schema_editor) -> None:
    """Compress every version's JSON fields into `packed_fields`, with one dictionary per source trained on them."""
    EntityVersion = apps.get_model("snapshots", "EntityVersion")
    FieldsDictionary = apps.get_model("snapshots", "FieldsDictionary")
    sources = sorted(set(EntityVersion.objects.values_list("source", flat=True)))
    for source in sources:
        versions = EntityVersion.objects.filter(source=source).order_by("pk")
        samples = [fields_json(fields) for fields in versions.values_list("fields", flat=True)[:TRAIN_MAX_SAMPLES]]
        dictionary = dictionary_create(FieldsDictionary, source, samples)
        last = 0
        while True:
            chunk = list(versions.filter(pk__gt=last).only("pk", "fields")[:CHUNK])
            if not chunk:
                break
            for version in chunk:
                version.packed_fields = DictionaryFields(version.fields, dictionary)
            EntityVersion.objects.bulk_update(chunk, ["packed_fields"])
            last = chunk[-1].pk


def unpack_fields(apps, schema_editor) -> None:
    """Back to JSON: every version's fields decompressed into `fields`."""
    EntityVersion = apps.get_model("snapshots", "EntityVersion")
    FieldsDictionary = apps.get_model("snapshots", "FieldsDictionary")
    for dict_id, data in FieldsDictionary.objects.values_list("dict_id", "data"):
        dictionary_register(dict_id, bytes(data))
    last = 0
    while True:
        chunk = list(EntityVersion.objects.filter(pk__gt=last).order_by("pk").only("pk", "packed_fields")[:CHUNK])
        if not chunk:
            break
        for version in chunk:
            version.fields = version.packed_fields
        EntityVersion.objects.bulk_update(chunk, ["fields"])
        last = chunk[-1].pk


class Migration(migrations.Migration):
    """Version fields compressed with per-source dictionaries; FK indexes that composite indexes cover dropped
    (issue 17: the index was 2.9x the archive)."""

    dependencies = [("snapshots", "0004_coverage")]

    operations = [
        migrations.CreateModel(
            name="FieldsDictionary",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("dict_id", models.PositiveIntegerField(unique=True)),
                ("source", models.CharField(help_text="The response kind it was trained on.", max_length=20)),
                ("data", models.BinaryField()),
                ("samples", models.PositiveIntegerField(help_text="Versions it was trained on.")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"verbose_name_plural": "fields dictionaries"},
        ),
        # Nullable while both columns exist, so that the reverse can add the JSON column back before filling it.
        migrations.AlterField(model_name="entityversion", name="fields", field=models.JSONField(null=True)),
        migrations.AddField(
            model_name="entityversion",
            name="packed_fields",
            field=snapshots.fields_codec.CompressedJSONField(null=True),
        ),
        migrations.RunPython(pack_fields, unpack_fields),
        migrations.RemoveField(model_name="entityversion", name="fields"),
        migrations.RenameField(model_name="entityversion", old_name="packed_fields", new_name="fields"),
        migrations.AlterField(
            model_name="entityversion", name="fields", field=snapshots.fields_codec.CompressedJSONField()
        ),
        migrations.AlterField(
            model_name="entityversion",
            name="entity",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.CASCADE,
                related_name="versions",
                to="snapshots.entity",
            ),
        ),
        migrations.AlterField(
            model_name="event",
            name="batch",
            field=models.ForeignKey(
                db_index=False, on_delete=models.deletion.CASCADE, related_name="events", to="snapshots.batch"
            ),
        ),
        migrations.AlterField(
            model_name="event",
            name="entity",
            field=models.ForeignKey(
                db_index=False, on_delete=models.deletion.CASCADE, related_name="events", to="snapshots.entity"
            ),
        ),
    ]
