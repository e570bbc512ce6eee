import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Gateway keys with scopes, limits and budgets (issue 18)."""

    dependencies = [
        ("catalog", "0007_slug_rule_of_the_registry"),
        ("routing", "0005_connectors"),
    ]

    operations = [
        migrations.AddField(
            model_name="gatewaykey",
            name="allowed_capabilities",
            field=models.ManyToManyField(
                blank=True,
                help_text="Capabilities it may name, and the models they route to; none here and no model: everything.",
                related_name="+",
                to="routing.capability",
            ),
        ),
        migrations.AddField(
            model_name="gatewaykey",
            name="allowed_models",
            field=models.ManyToManyField(
                blank=True, help_text="Models it may name (at any provider).", related_name="gateway_keys", to="catalog.model"
            ),
        ),
        migrations.AddField(
            model_name="gatewaykey",
            name="budget_usd",
            field=models.DecimalField(
                blank=True,
                decimal_places=6,
                help_text="Total spend allowed, at the catalogue's prices of the offers that answered; empty: no limit.",
                max_digits=14,
                null=True,
                validators=[django.core.validators.MinValueValidator(0)],
            ),
        ),
        migrations.AddField(
            model_name="gatewaykey",
            name="requests_per_minute",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Over any 60 seconds; empty: no limit.",
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
            ),
        ),
        migrations.AddField(
            model_name="gatewaykey",
            name="tokens_per_day",
            field=models.PositiveBigIntegerField(
                blank=True,
                help_text="Prompt and completion tokens per UTC day; empty: no limit.",
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
            ),
        ),
        migrations.AddConstraint(
            model_name="gatewaykey",
            constraint=models.CheckConstraint(
                condition=models.Q(("requests_per_minute__isnull", True), ("requests_per_minute__gte", 1), _connector="OR"),
                name="gatewaykey_rpm_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="gatewaykey",
            constraint=models.CheckConstraint(
                condition=models.Q(("tokens_per_day__isnull", True), ("tokens_per_day__gte", 1), _connector="OR"),
                name="gatewaykey_tpd_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="gatewaykey",
            constraint=models.CheckConstraint(
                condition=models.Q(("budget_usd__isnull", True), ("budget_usd__gte", 0), _connector="OR"),
                name="gatewaykey_budget_not_negative",
            ),
        ),
        migrations.CreateModel(
            name="GatewayKeyUsage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                (
                    "requests",
                    models.PositiveIntegerField(default=0, help_text="Every request made with the key, refused ones too."),
                ),
                (
                    "refused",
                    models.PositiveIntegerField(default=0, help_text="Refused by the key's scopes or limits (403, 429)."),
                ),
                ("prompt_tokens", models.PositiveBigIntegerField(default=0)),
                ("completion_tokens", models.PositiveBigIntegerField(default=0)),
                ("spend_usd", models.DecimalField(decimal_places=9, default=0, max_digits=18)),
                (
                    "unpriced",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Answers that used tokens at an offer with no catalogue price: not in spend.",
                    ),
                ),
                (
                    "key",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="usage", to="routing.gatewaykey"
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "gateway key usage",
                "ordering": ["-day", "key_id"],
                "constraints": [
                    models.UniqueConstraint(fields=("key", "day"), name="gatewaykeyusage_key_day_unique")
                ],
            },
        ),
    ]
