from django.db import migrations


class Migration(migrations.Migration):
    """Gateway keys with scopes, limits and budgets (issue 18)."""

    dependencies = [("routing", "0005_connectors")]

    operations: list = []
