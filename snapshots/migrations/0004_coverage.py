from django.db import migrations, models

ENTITY_KINDS = [
    ("model", "Model"),
    ("endpoint", "Endpoint"),
    ("provider", "Provider"),
    ("endpoint_detail", "Endpoint detail (by UUID)"),
    ("provider_detail", "Provider capabilities"),
]
EVENT_KINDS = [
    ("appeared", "Appeared"),
    ("disappeared", "Disappeared"),
    ("reappeared", "Reappeared"),
    ("orphaned", "Orphaned"),
    ("price_changed", "Price changed"),
    ("limits_changed", "Context/limits changed"),
    ("status_changed", "Status flag changed (disabled, deranked, hidden)"),
    ("region_changed", "Region changed"),
    ("changed", "Other field changed"),
]


class Migration(migrations.Migration):
    """Coverage: endpoint details by UUID and provider capabilities as entities; status and region events (issue 17)."""

    dependencies = [("snapshots", "0003_reliability")]

    operations = [
        migrations.RemoveConstraint(model_name="event", name="event_kind_valid"),
        migrations.AlterField(
            model_name="entity",
            name="kind",
            field=models.CharField(choices=ENTITY_KINDS, max_length=20),
        ),
        migrations.AlterField(
            model_name="event",
            name="kind",
            field=models.CharField(choices=EVENT_KINDS, max_length=16),
        ),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.CheckConstraint(
                condition=models.Q(kind__in=[value for value, _ in EVENT_KINDS]), name="event_kind_valid"
            ),
        ),
    ]
