from django.db import migrations


class Migration(migrations.Migration):
    """Leases, list fallback and shrink guard (issue 17)."""

    dependencies = [("snapshots", "0002_storage_v2")]

    operations: list = []
