import django.db.models.deletion
import django.utils.timezone
import routing.batch_models
from django.db import migrations, models


class Migration(migrations.Migration):
    """Routing from a YAML configuration; batches and files (issue 18)."""

    dependencies = [("routing", "0006_virtual_keys")]

    operations = [
        migrations.CreateModel(
            name='ConfigurationLoad',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(help_text='The file loaded.', max_length=500)),
                ('digest', models.CharField(help_text="SHA-256 of the file's bytes.", max_length=64)),
                ('document', models.JSONField(help_text='The configuration as loaded (references only, never a secret).')),
                ('changes', models.JSONField(blank=True, default=list, help_text='What the load created, changed or removed.')),
                ('loaded_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['-loaded_at', '-pk'],
                'get_latest_by': 'loaded_at',
            },
        ),
        migrations.AddField(
            model_name='capability',
            name='from_config',
            field=models.BooleanField(default=False, editable=False, help_text='Declared in the routing configuration (`manage.py routing_load`).', verbose_name='from configuration'),
        ),
        migrations.AddField(
            model_name='pool',
            name='from_config',
            field=models.BooleanField(default=False, editable=False, help_text='Declared in the routing configuration (`manage.py routing_load`).', verbose_name='from configuration'),
        ),
        migrations.CreateModel(
            name='GatewayFile',
            fields=[
                ('id', models.CharField(default=routing.batch_models._file_id, editable=False, max_length=40, primary_key=True, serialize=False)),
                ('purpose', models.CharField(choices=[('batch', 'Batch input'), ('batch_output', 'Batch output or errors')], max_length=20)),
                ('filename', models.CharField(max_length=255)),
                ('content', models.BinaryField()),
                ('bytes', models.PositiveBigIntegerField(default=0)),
                ('lines', models.PositiveIntegerField(default=0, help_text='Requests (input) or results (output) it holds.')),
                ('endpoint', models.CharField(blank=True, help_text='Input files: the `url` of every line.', max_length=40)),
                ('key', models.ForeignKey(blank=True, help_text='The issued key that uploaded it (only that key sees it); empty: a configured key or loopback.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='routing.gatewaykey')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('purpose__in', ['batch', 'batch_output'])), name='gatewayfile_purpose')],
            },
        ),
        migrations.CreateModel(
            name='GatewayBatch',
            fields=[
                ('id', models.CharField(default=routing.batch_models._batch_id, editable=False, max_length=40, primary_key=True, serialize=False)),
                ('endpoint', models.CharField(max_length=40)),
                ('key', models.ForeignKey(blank=True, help_text='The issued key that created it: only that key sees it, and its requests run under its scopes and limits; empty: a configured key or loopback.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='routing.gatewaykey')),
                ('completion_window', models.CharField(default='24h', max_length=10)),
                ('status', models.CharField(choices=[('validating', 'Validating'), ('in_progress', 'In progress'), ('finalizing', 'Finalizing'), ('completed', 'Completed'), ('failed', 'Failed'), ('cancelling', 'Cancelling'), ('cancelled', 'Cancelled')], default='validating', max_length=20)),
                ('metadata', models.JSONField(blank=True, null=True)),
                ('errors', models.JSONField(blank=True, help_text='Why the batch failed, OpenAI-shaped.', null=True)),
                ('total', models.PositiveIntegerField(default=0)),
                ('completed', models.PositiveIntegerField(default=0)),
                ('failed', models.PositiveIntegerField(default=0)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
                ('in_progress_at', models.DateTimeField(blank=True, null=True)),
                ('finalizing_at', models.DateTimeField(blank=True, null=True)),
                ('completed_at', models.DateTimeField(blank=True, null=True)),
                ('failed_at', models.DateTimeField(blank=True, null=True)),
                ('cancelling_at', models.DateTimeField(blank=True, null=True)),
                ('cancelled_at', models.DateTimeField(blank=True, null=True)),
                ('error_file', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='routing.gatewayfile')),
                ('input_file', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='batches', to='routing.gatewayfile')),
                ('output_file', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='routing.gatewayfile')),
            ],
            options={
                'verbose_name_plural': 'gateway batches',
                'ordering': ['-created_at', '-id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['validating', 'in_progress', 'finalizing', 'completed', 'failed', 'cancelling', 'cancelled'])), name='gatewaybatch_status')],
            },
        ),
    ]
