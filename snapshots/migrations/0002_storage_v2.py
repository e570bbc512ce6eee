from django.db import migrations


class Migration(migrations.Migration):
    """Storage v2: columnar volatile figures, no VolatileMetric rows (issue 17)."""

    dependencies = [("snapshots", "0001_initial")]

    operations: list = []
