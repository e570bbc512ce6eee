"""Bearer keys kept as a SHA-256 only: the shape shared by admin-API keys and gateway keys."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models


class HashedKey(models.Model):
    """A key shown once when issued; only its hash and a short prefix (to recognise it) are stored."""

    PREFIX = "mg_"
    SHOWN = 7  # random characters kept after PREFIX in `prefix`, to recognise a key in lists

    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    def shown_prefix(self, raw: str) -> str:
        return raw[: len(self.PREFIX) + self.SHOWN]

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)
