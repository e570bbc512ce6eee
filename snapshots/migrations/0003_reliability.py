from django.db import migrations, models


class Migration(migrations.Migration):
    """Leases, list fallback and shrink guard (issue 17): the lease a sync holds on its batch, and its attempts."""

    dependencies = [("snapshots", "0002_storage_v2")]

    operations = [
        migrations.AddField(
            model_name="batch",
            name="lease_owner",
            field=models.CharField(blank=True, help_text="host:pid:token of the sync holding it.", max_length=120),
        ),
        migrations.AddField(
            model_name="batch",
            name="lease_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="batch",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=1, help_text="Syncs that have worked on this batch."),
        ),
    ]
