"""The record of each routing configuration load that changed something (what the admin and the export read)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ConfigurationLoad(models.Model):
    source = models.CharField(max_length=500, help_text="The file loaded.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes.")
    document = models.JSONField(help_text="The configuration as loaded (references only, never a secret).")
    changes = models.JSONField(default=list, blank=True, help_text="What the load created, changed or removed.")
    loaded_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        app_label = "routing"
        ordering = ["-loaded_at", "-pk"]
        get_latest_by = "loaded_at"

    def __str__(self) -> str:
        return f"{self.source} at {self.loaded_at:%Y-%m-%d %H:%M:%S}"
