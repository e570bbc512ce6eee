import django.db.models
from django.db import migrations

import modelgraph.models


class Migration(migrations.Migration):
    dependencies = [
        ("modelgraph", "0002_workerheartbeat"),
    ]

    operations = [
        # Existing keys get the default: the ingestion endpoints they could already call, nothing more.
        migrations.AddField(
            model_name="apikey",
            name="scopes",
            field=django.db.models.JSONField(blank=True, default=modelgraph.models.default_api_scopes),
        ),
    ]
