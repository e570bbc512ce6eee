"""Issuing, changing and revoking gateway keys with scopes and limits: the admin API (a bearer key with the
`gateway:keys` scope), the admin and `manage.py gateway_key`. The key is shown once and stored hashed; usage is
visible, secrets never."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from modelgraph.models import ApiScope
from routing.models import GatewayKey, GatewayKeyUsage
from tests.ingestion.curation_helpers import client_with, issue_key
from tests.routing.conftest import run
from tests.routing.test_key_limits import issue, post

KEYS = "/api/routing/keys"


@pytest.fixture
def keys_api(django_user_model):
    owner = django_user_model.objects.create_user("ops", password="not-used")
    return client_with(issue_key([ApiScope.GATEWAY_KEYS], owner))


def every_column_value() -> str:
    return " ".join(str(value) for row in GatewayKey.objects.values() for value in row.values())


@pytest.mark.django_db
class TestKeysAPI:
    def test_it_needs_a_key_with_the_gateway_keys_scope(self, db):
        assert client_with(None).get(KEYS).status_code == 401
        curation_only = client_with(issue_key([ApiScope.CURATION_WRITE]))
        refused = curation_only.post(KEYS, {"name": "x"}, format="json")
        assert refused.status_code == 403 and "gateway:keys" in refused.json()["detail"]
        assert curation_only.get(KEYS).status_code == 403
        assert not GatewayKey.objects.exists()

    def test_an_issued_key_is_shown_once_stored_hashed_and_scoped(self, catalogue, keys_api):
        body = {
            "name": "search backend",
            "allowed_capabilities": ["tool-use"],
            "requests_per_minute": 2,
            "tokens_per_day": 1000,
            "budget_usd": "1.50",
        }
        issued = keys_api.post(KEYS, body, format="json")
        assert issued.status_code == 201
        answer = issued.json()
        raw = answer["key"]
        key = GatewayKey.objects.get()
        assert raw.startswith(key.prefix) and answer["prefix"] == key.prefix
        assert key.key_hash == GatewayKey.hash(raw) and raw not in every_column_value()
        assert key.created_by.username == "ops"
        assert answer["allowed_capabilities"] == ["tool-use"] and answer["budget_usd"] == "1.500000"
        assert answer["usage"] == {
            "requests_today": 0,
            "refused_today": 0,
            "tokens_today": 0,
            "spend_usd": "0.000000000",
            "unpriced": 0,
        }
        # The key works on /v1/ within its scopes and limits.
        assert run(post, raw, "tool-use").status_code == 200
        assert run(post, raw, "text-generation").status_code == 403
        assert run(post, raw, "tool-use").status_code == 200  # (a refused request is not counted)
        assert run(post, raw, "tool-use").status_code == 429  # the third request of the minute
        # Never shown again.
        listed = keys_api.get(KEYS)
        assert listed.status_code == 200 and raw not in listed.content.decode()
        detail = keys_api.get(f"{KEYS}/{key.pk}").json()
        assert "key" not in detail and detail["usage"]["requests_today"] == 4
        assert detail["usage"]["refused_today"] == 2

    def test_a_change_applies_at_once_and_a_revoked_key_stops_working(self, catalogue, keys_api, settings):
        settings.ROUTING_GATEWAY_OPEN = False  # (else, the last key revoked, loopback clients need none)
        key, raw = issue(requests_per_minute=1)
        assert [run(post, raw, "chat-model").status_code for _ in range(2)] == [200, 429]
        changed = keys_api.patch(
            f"{KEYS}/{key.pk}", {"requests_per_minute": None, "allowed_models": ["coder-model"]}, format="json"
        )
        assert changed.status_code == 200 and changed.json()["requests_per_minute"] is None
        assert run(post, raw, "coder-model").status_code == 200
        assert run(post, raw, "chat-model").status_code == 403
        revoked = keys_api.delete(f"{KEYS}/{key.pk}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        assert run(post, raw, "coder-model").status_code == 401
        assert keys_api.delete(f"{KEYS}/{key.pk}").status_code == 200  # again: nothing changes
        assert GatewayKey.objects.get().revoked_at.isoformat()[:19] == revoked.json()["revoked_at"][:19]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": ""}, "name"),
            ({"name": "x", "requests_per_minute": 0}, "requests_per_minute"),
            ({"name": "x", "tokens_per_day": -5}, "tokens_per_day"),
            ({"name": "x", "budget_usd": "-1"}, "budget_usd"),
            ({"name": "x", "budget_usd": "lots"}, "budget_usd"),
            ({"name": "x", "allowed_capabilities": ["no-such-capability"]}, "allowed_capabilities"),
            ({"name": "x", "allowed_models": ["no-such-model"]}, "allowed_models"),
            ({"name": "x", "allowed_models": "chat-model"}, "allowed_models"),
        ],
    )
    def test_bad_input_is_400_naming_the_field_and_issues_nothing(self, catalogue, keys_api, body, field):
        response = keys_api.post(KEYS, body, format="json")
        assert response.status_code == 400 and field in response.json()["errors"]
        assert not GatewayKey.objects.exists()

    def test_a_bad_change_changes_nothing(self, catalogue, keys_api):
        key, _ = issue(requests_per_minute=5)
        response = keys_api.patch(f"{KEYS}/{key.pk}", {"requests_per_minute": 0, "name": "new"}, format="json")
        assert response.status_code == 400 and "requests_per_minute" in response.json()["errors"]
        key.refresh_from_db()
        assert (key.name, key.requests_per_minute) == ("app", 5)

    def test_an_unknown_key_is_404(self, db, keys_api):
        assert keys_api.get(f"{KEYS}/999999").status_code == 404
        assert keys_api.delete(f"{KEYS}/999999999999999999").status_code == 404
        assert keys_api.get(f"{KEYS}/99999999999999999999999").status_code == 404  # beyond a bigint: no 500

    def test_the_list_costs_the_same_queries_for_one_key_or_many(self, catalogue, keys_api):
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert keys_api.get(KEYS).status_code == 200
            return len(captured)

        issue("one", capabilities=[catalogue.tree["tool-use"]], models=[catalogue.chat])
        one = queries()
        for number in range(5):
            key, _ = issue(f"key {number}", capabilities=[catalogue.tree["vision"]], models=[catalogue.coder])
            GatewayKeyUsage.objects.create(key=key, day=dt.date(2026, 1, 1), requests=3, spend_usd=Decimal("0.5"))
        assert queries() == one
        listed = keys_api.get(KEYS).json()["results"]
        assert len(listed) == 6 and {row["usage"]["spend_usd"] for row in listed} == {"0.000000000", "0.500000000"}


@pytest.mark.django_db
class TestKeysAdmin:
    def test_issue_with_limits_and_scopes_shows_the_key_once(self, admin_client, catalogue):
        form = {
            "name": "notebook",
            "allowed_capabilities": [catalogue.tree["tool-use"].pk],
            "allowed_models": [],
            "requests_per_minute": "1",
            "tokens_per_day": "",
            "budget_usd": "",
        }
        response = admin_client.post(reverse("admin:routing_gatewaykey_add"), form, follow=True)
        text = response.content.decode()
        key = GatewayKey.objects.get()
        raw = text[text.index(key.prefix) :].split(" ", 1)[0]
        assert GatewayKey.hash(raw) == key.key_hash and key.requests_per_minute == 1
        assert list(key.allowed_capabilities.values_list("slug", flat=True)) == ["tool-use"]
        assert [run(post, raw, "tool-use").status_code for _ in range(2)] == [200, 429]
        assert run(post, raw, "coder-model").status_code == 403
        changed = {**form, "requests_per_minute": "", "allowed_capabilities": [], "budget_usd": "0"}
        management = {"usage-TOTAL_FORMS": "0", "usage-INITIAL_FORMS": "0"}
        admin_client.post(reverse("admin:routing_gatewaykey_change", args=[key.pk]), {**changed, **management})
        key.refresh_from_db()
        assert (key.requests_per_minute, key.budget_usd, key.allowed_capabilities.count()) == (None, 0, 0)
        refused = run(post, raw, "coder-model")  # may use everything now, but has no budget
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "insufficient_quota"

    def test_the_list_and_the_key_show_usage_and_limits_never_the_key(self, admin_client, catalogue):
        key, raw = issue(requests_per_minute=10, budget_usd=Decimal("2"))
        run(post, raw, "chat-model@prov-a")
        changelist = admin_client.get(reverse("admin:routing_gatewaykey_changelist")).content.decode()
        assert "10/min, $2" in changelist and "0.000081" in changelist and raw not in changelist
        page = admin_client.get(reverse("admin:routing_gatewaykey_change", args=[key.pk])).content.decode()
        assert raw not in page and key.key_hash not in page
        assert "usage (last 31 days, utc)" in page.lower() and "0.000081000" in page


@pytest.mark.django_db
class TestCommand:
    def test_issue_change_and_list_with_limits(self, catalogue, capsys):
        call_command("gateway_key", "issue", "batch job", "--rpm", "2", "--budget", "0.5", "--model", "chat-model")
        raw = capsys.readouterr().out.strip()
        key = GatewayKey.objects.get()
        assert key.key_hash == GatewayKey.hash(raw) and key.budget_usd == Decimal("0.5")
        assert run(post, raw, "coder-model").status_code == 403
        call_command("gateway_key", "limits", key.prefix, "--rpm", "none", "--all", "--tokens-per-day", "500")
        key.refresh_from_db()
        assert (key.requests_per_minute, key.tokens_per_day, key.allowed_models.count()) == (None, 500, 0)
        capsys.readouterr()
        call_command("gateway_key", "list")
        line = capsys.readouterr().out
        assert "tokens/day 500" in line and "budget $0.5" in line and "may use everything" in line
        assert raw not in line

    @pytest.mark.parametrize(
        ("arguments", "message"),
        [
            (["--rpm", "0"], "rpm: a whole number of at least 1"),
            (["--tokens-per-day", "many"], "tokens-per-day: a whole number"),
            (["--budget", "-2"], "budget: an amount in USD"),
            (["--budget", "NaN"], "budget: an amount in USD"),
            (["--capability", "nope"], "capability: no capability is called 'nope'"),
            (["--model", "nope"], "model: no model is called 'nope'"),
        ],
    )
    def test_bad_limits_are_clear_errors_and_issue_nothing(self, catalogue, arguments, message):
        with pytest.raises(CommandError, match=message):
            call_command("gateway_key", "issue", "x", *arguments)
        assert not GatewayKey.objects.exists()
