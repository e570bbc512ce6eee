import django.db.models.deletion
from django.db import migrations, models

ROLES = [
    ("body", "A whole response body (template), storage v1"),
    ("pack", "The new endpoint templates of a batch, storage v1"),
    ("manifest", "A batch's manifest"),
    ("record", "A keyframe record inside a segment"),
    ("delta", "A record as a small frame against its previous version"),
    ("segment", "Keyframe records of a batch, one small zstd stream"),
    ("columns", "A batch's volatile figures as columns"),
    ("group", "Changed list items, one frame against their previous versions"),
]


class Migration(migrations.Migration):
    """Storage v2: records in segments and delta frames, columnar volatile figures, no VolatileMetric rows (issue 17).

    Batches written before keep their manifests (volatile tokens inline) and stay readable byte for byte; their
    VolatileMetric rows go, as the figures are still in those manifests."""

    dependencies = [("snapshots", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="batch",
            name="volatile",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="snapshots.blob",
            ),
        ),
        migrations.AddField(
            model_name="blob",
            name="offset",
            field=models.PositiveIntegerField(blank=True, help_text="Where a record is in its segment.", null=True),
        ),
        migrations.AddField(
            model_name="blob",
            name="segment",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="snapshots.blob",
            ),
        ),
        migrations.AlterField(
            model_name="blob",
            name="role",
            field=models.CharField(choices=ROLES, default="body", max_length=8),
        ),
        migrations.DeleteModel(name="VolatileMetric"),
    ]
