from django.db import migrations


class Migration(migrations.Migration):
    """Routing from a YAML configuration; batches and files (issue 18)."""

    dependencies = [("routing", "0006_virtual_keys")]

    operations: list = []
