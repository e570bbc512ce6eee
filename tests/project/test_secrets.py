"""Key references (modelgraph/secrets.py): the forms a provider's key may take, where each resolves from, and the
one redaction of every value handed out."""

from __future__ import annotations

import json

import pytest

from modelgraph import secrets
from modelgraph.secrets import key_reference_error, key_resolve, redact, secret_name, secret_resolve


def test_reference_and_plain_names(monkeypatch):
    monkeypatch.setenv("MY_PROVIDER_API_KEY", "sk-from-env-123")
    assert secret_name("${secrets:MY_PROVIDER_API_KEY}") == "MY_PROVIDER_API_KEY"
    assert key_resolve("${secrets:MY_PROVIDER_API_KEY}") == "sk-from-env-123"
    assert key_resolve("MY_PROVIDER_API_KEY") == "sk-from-env-123"
    assert key_resolve("${secrets:ABSENT_API_KEY_XYZ}") is None and key_resolve("") is None


def test_env_file(tmp_path, settings):
    path = tmp_path / "secrets.env"
    path.write_text("# provider keys\nexport together='sk-together-1'\nGROQ_API_KEY=sk-groq-2\n")
    settings.ROUTING_SECRETS_FILE = str(path)
    assert key_resolve("${secrets:together}") == "sk-together-1"
    assert key_resolve("GROQ_API_KEY") == "sk-groq-2"


def test_json_file_is_reread_when_it_changes(tmp_path, settings):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"openai": "sk-one-1111"}))
    settings.ROUTING_SECRETS_FILE = str(path)
    assert key_resolve("${secrets:openai}") == "sk-one-1111"
    path.write_text(json.dumps({"openai": "sk-two-2222"}))
    secrets._file_cache.clear()  # (mtime resolution can be a whole second)
    assert key_resolve("${secrets:openai}") == "sk-two-2222"


def test_secrets_directory(tmp_path, settings):
    (tmp_path / "mistral").write_text("sk-mistral-3333\n")
    settings.ROUTING_SECRETS_FILE = str(tmp_path)
    assert key_resolve("${secrets:mistral}") == "sk-mistral-3333"
    assert key_resolve("${secrets:absent}") is None


def test_every_resolved_secret_is_redacted(monkeypatch):
    monkeypatch.setenv("REDACT_ME_API_KEY", "sk-live-abcdef987654")
    key_resolve("REDACT_ME_API_KEY")
    assert redact("Incorrect API key provided: sk-live-abcdef987654.") == "Incorrect API key provided: [redacted]."
    assert redact("token tok-extra-1234 here", "tok-extra-1234") == "token [redacted] here"


class TestKeyReferenceRule:
    @pytest.mark.parametrize(
        "reference", ["", "OPENAI_API_KEY", "GITHUB_TOKEN", "${secrets:openai}", "${secrets:AWS_ACCESS_KEY_ID}"]
    )
    def test_allowed_forms(self, reference):
        assert key_reference_error(reference) is None

    @pytest.mark.parametrize(
        "reference",
        [
            "DJANGO_SECRET_KEY",
            "DATABASE_URL",
            "REDIS_URL",
            "ROUTING_GATEWAY_KEYS",
            "${secrets:DJANGO_SECRET_KEY}",
            "${secrets:DATABASE_URL}",
            "API_THROTTLE_RATE",
            "DJANGO_ANYTHING_API_KEY",
        ],
    )
    def test_the_platforms_own_variables_are_refused_in_both_forms(self, reference):
        assert "platform's own variables" in key_reference_error(reference)

    @pytest.mark.parametrize(
        "reference",
        [
            "HOME",
            "AWS_SECRET_ACCESS_KEY",
            "openai_api_key",
            "sk-live-123",
            "${secrets:}",
            "${secrets:a b}",
            "$OPENAI_API_KEY",
        ],
    )
    def test_other_names_and_literal_keys_are_refused(self, reference):
        assert key_reference_error(reference) is not None

    def test_a_refused_reference_is_never_resolved(self, monkeypatch, settings):
        monkeypatch.setenv("DJANGO_SECRET_KEY", "django-secret-value-1234")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-value-5678")
        assert key_resolve("DJANGO_SECRET_KEY") is None
        assert key_resolve("${secrets:DJANGO_SECRET_KEY}") is None
        assert key_resolve("AWS_SECRET_ACCESS_KEY") is None
        # `${secrets:NAME}` reads the environment only for an allowed name; other names come from the secrets file.
        assert key_resolve("${secrets:AWS_SECRET_ACCESS_KEY}") is None

    def test_the_operator_allow_list_and_deny_list(self, monkeypatch, settings):
        monkeypatch.setenv("CLARIFAI_PAT", "pat-1234567")
        assert key_resolve("CLARIFAI_PAT") is None
        settings.SECRETS_KEY_ENV_ALLOW = ["*_API_KEY", "*_PAT"]
        assert key_resolve("CLARIFAI_PAT") == "pat-1234567"
        settings.SECRETS_KEY_ENV_DENY = ["CLARIFAI_*"]
        assert key_resolve("CLARIFAI_PAT") is None and "platform's own" in key_reference_error("CLARIFAI_PAT")

    def test_operator_references_resolve_any_name(self, monkeypatch):
        # Gateway keys are the operator's own settings, not a registry's: no allow-list there.
        monkeypatch.setenv("GATEWAY_KEY_ONE", "mg-gw-secret")
        assert secret_resolve("${secrets:GATEWAY_KEY_ONE}") == "mg-gw-secret"
