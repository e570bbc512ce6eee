from django.db import migrations


class Migration(migrations.Migration):
    """Coverage: endpoint stats, uptime series, providers, analytics (issue 17)."""

    dependencies = [("snapshots", "0003_reliability")]

    operations: list = []
