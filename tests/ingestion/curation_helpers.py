"""Shared by the curation-API and work-queue tests: scoped keys owned by a curator, and JSON calls."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from modelgraph.models import ApiKey, ApiScope


@pytest.fixture
def curator(django_user_model):
    return django_user_model.objects.create_user("curator", password="not-used")


def issue_key(scopes: list[str], owner=None) -> str:
    raw = ApiKey.generate()
    ApiKey.objects.create(name="test", prefix=raw[:10], key_hash=ApiKey.hash(raw), scopes=scopes, created_by=owner)
    return raw


def client_with(key: str | None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def curation(curator) -> APIClient:
    return client_with(issue_key([ApiScope.CURATION_WRITE], curator))


@pytest.fixture
def public() -> APIClient:
    return APIClient()
