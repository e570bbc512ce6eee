from django.db import migrations


class Migration(migrations.Migration):
    """Observability: the request id in the request log (issue 18)."""

    dependencies = [("routing", "0007_configuration")]

    operations: list = []
