import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Connectors: the upstream API family of a provider (issue 18)."""

    dependencies = [
        ("catalog", "0007_slug_rule_of_the_registry"),
        ("routing", "0004_event_cooldown_ended"),
    ]

    operations = [
        migrations.AlterField(
            model_name="capability",
            name="endpoint",
            field=models.CharField(
                choices=[("chat", "Chat completions (/v1/chat/completions)"), ("embeddings", "Embeddings (/v1/embeddings)")],
                default="chat",
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="ProviderConnector",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "api",
                    models.CharField(
                        choices=[
                            ("openai", "OpenAI-compatible (chat completions)"),
                            ("anthropic", "Anthropic Messages"),
                            ("gemini", "Google Gemini (generateContent)"),
                        ],
                        default="openai",
                        max_length=20,
                    ),
                ),
                (
                    "base_url",
                    models.URLField(
                        blank=True,
                        help_text="Overrides the provider's API base URL; empty: the provider's, else the API's public one.",
                        max_length=500,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "provider",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="connector", to="catalog.provider"
                    ),
                ),
            ],
            options={
                "ordering": ["provider__slug"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("api__in", ["openai", "anthropic", "gemini"])),
                        name="providerconnector_api_valid",
                    )
                ],
            },
        ),
    ]
