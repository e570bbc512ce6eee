from django.db import migrations


class Migration(migrations.Migration):
    """Connectors: the upstream API family of a provider (issue 18)."""

    dependencies = [("routing", "0004_event_cooldown_ended")]

    operations: list = []
