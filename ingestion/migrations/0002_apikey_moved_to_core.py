# ApiKey now belongs to the core app (modelgraph); its table is kept as it is (state only, no SQL).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ingestion", "0001_initial"),
        ("modelgraph", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiKey")],
            database_operations=[],
        ),
    ]
