from django.db import migrations, models


class Migration(migrations.Migration):
    """Observability: the request id in the request log (issue 18)."""

    dependencies = [("routing", "0007_configuration")]

    operations = [
        migrations.AddField(
            model_name="requestlog",
            name="request_id",
            field=models.CharField(
                blank=True, help_text="The X-Request-Id it came with, or the one it was given.", max_length=100
            ),
        ),
        migrations.AddIndex(
            model_name="requestlog",
            index=models.Index(fields=["request_id"], name="requestlog_request_id_idx"),
        ),
    ]
