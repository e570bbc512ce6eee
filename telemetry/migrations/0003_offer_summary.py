"""Per-offer summaries of the ranking window (telemetry.offer_summaries): one row read per offer."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_mapping_source"),
        ("telemetry", "0002_daily_latency"),
    ]

    operations = [
        migrations.CreateModel(
            name="OfferSummary",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("successes", models.PositiveIntegerField(default=0)),
                ("failures", models.PositiveIntegerField(default=0)),
                ("excluded", models.PositiveIntegerField(default=0)),
                ("window_start", models.DateTimeField(help_text="The first hour of the window these figures cover.")),
                (
                    "latency_samples",
                    models.PositiveIntegerField(default=0, help_text="Latency probes timed."),
                ),
                ("median_ttft_ms", models.FloatField(blank=True, null=True)),
                ("median_total_ms", models.FloatField(blank=True, null=True)),
                ("last_probed_at", models.DateTimeField(blank=True, null=True)),
                ("refreshed_at", models.DateTimeField()),
                (
                    "mapping",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalog.mapping",
                    ),
                ),
                (
                    "provider",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="catalog.provider"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("mapping__isnull", True)),
                        fields=("provider",),
                        name="offer_summary_provider_api_unique",
                    )
                ],
            },
        ),
    ]
