"""Every relation field of every admin form (add and change, the project's and Django's own) answers a hostile id
with a form error, never a 500: an autocomplete widget showing the form again looked the posted id up (`1e400`:
500), and a many-to-many field checked 40 nines against the database (an overflow in the driver: 500). Every list
action of every admin refuses a hostile selected id before it runs."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory

from catalog.models import Model, Provider
from registry.loading import registry_load
from tests import recipes

pytestmark = pytest.mark.django_db

SMALL_REGISTRY = Path(__file__).resolve().parent.parent / "fixtures" / "registry_small"
HOSTILE_IDS = ["1e400", "9" * 40, "abc", "\x00"]


class FormFields(HTMLParser):
    """The values a browser would post for the admin form on a page (unchecked boxes and buttons left out)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = attributes.get("type", "text")
            if kind in ("submit", "button", "file") or (kind == "checkbox" and "checked" not in attributes):
                return
            self.data.setdefault(name, []).append(attributes.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data.setdefault(name, [""])
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attributes:
            self.data[self._select].append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] = [self.data[self._textarea][0] + data]


def relation_fields(model_admin, user, obj) -> list[str]:
    """The relation fields of the admin's change form for `obj` (its add form for None), none where it has none."""
    request = RequestFactory().get("/")
    request.user = user
    allowed = model_admin.has_change_permission(request, obj) if obj else model_admin.has_add_permission(request)
    if not allowed:
        return []
    form = model_admin.get_form(request, obj)()
    return [
        name
        for name, field in form.fields.items()
        if isinstance(field, forms.ModelChoiceField | forms.ModelMultipleChoiceField)
    ]


@pytest.fixture
def curator_client(client, django_user_model, tmp_path):
    registry = tmp_path / "registry"
    shutil.copytree(SMALL_REGISTRY, registry)
    registry_load(path=registry)
    recipes.openai_compatible_provider.make(slug="extra-provider", name="Extra")
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    client.raise_request_exception = False  # a server error is a status to report, not a test crash
    return client, user


def test_no_admin_form_answers_a_hostile_related_id_with_a_5xx(curator_client):
    client, user = curator_client
    failures, posted, relation_count = [], 0, 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        first = model._default_manager.order_by("pk").first()
        forms_to_post = [(f"/admin/{meta.app_label}/{meta.model_name}/add/", None)]
        if first is not None:
            forms_to_post.append((f"/admin/{meta.app_label}/{meta.model_name}/{first.pk}/change/", first))
        for url, obj in forms_to_post:
            fields = relation_fields(model_admin, user, obj)
            if not fields:
                continue
            relation_count += len(fields)
            page = client.get(url)
            if page.status_code != 200:
                assert page.status_code < 500, (url, page.status_code)
                continue
            parser = FormFields()
            parser.feed(page.content.decode())
            for name in fields:
                for value in HOSTILE_IDS:
                    data = {**parser.data, name: [value], "change_reason": ["hostile id"]}
                    response = client.post(url, data)
                    posted += 1
                    if response.status_code >= 500:
                        failures.append((url, name, value[:12], response.status_code))
    assert relation_count >= 20 and posted >= 100, (relation_count, posted)  # the walk reached the forms
    assert failures == []


def test_a_hostile_id_is_the_fields_own_error_and_changes_nothing(curator_client):
    client, _ = curator_client
    model = Model.objects.order_by("pk").first()
    url = f"/admin/catalog/model/{model.pk}/change/"
    parser = FormFields()
    parser.feed(client.get(url).content.decode())
    before = (model.creator_id, model.family_id, model.history.count())
    response = client.post(url, {**parser.data, "creator": ["1e400"], "change_reason": ["hostile id"]})
    assert response.status_code == 200
    assert "creator" in response.context["adminform"].form.errors
    model.refresh_from_db()
    assert (model.creator_id, model.family_id, model.history.count()) == before
    # Django's own user admin: a group id no column can hold is the groups field's error.
    user = response.wsgi_request.user
    page = f"/admin/auth/user/{user.pk}/change/"
    parser = FormFields()
    parser.feed(client.get(page).content.decode())
    response = client.post(page, {**parser.data, "groups": ["9" * 40]})
    assert response.status_code == 200
    assert "groups" in response.context["adminform"].form.errors
    assert Provider.objects.filter(slug="extra-provider").exists()


def test_no_admin_list_action_runs_or_answers_5xx_on_a_hostile_selected_id(curator_client):
    """Django filters a list by the posted `_selected_action` ids unchecked: `abc`, `1e400`, NUL or an empty id were
    500s in every admin with an action (ours, django-q's, axes', auth's). Now a 400 naming the parameter."""
    client, user = curator_client
    request = RequestFactory().get("/")
    request.user = user
    failures, posted = [], 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = f"/admin/{meta.app_label}/{meta.model_name}/"
        for action in model_admin.get_actions(request):
            for value in ["abc", "1e400", "\x00", ""]:
                response = client.post(
                    url, {"action": action, "_selected_action": [value], "index": "0", "post": "yes"}
                )
                posted += 1
                if response.status_code >= 500:
                    failures.append((url, action, value, response.status_code))
    assert posted >= 40 and failures == []
    rows = Model.objects.count()
    refused = client.post(
        "/admin/catalog/model/", {"action": "delete_selected", "_selected_action": ["abc"], "post": "yes"}
    )
    assert refused.status_code == 400
    assert "_selected_action" in refused.content.decode() and "is not the id of any model" in refused.content.decode()
    assert Model.objects.count() == rows


def test_the_login_attempts_cleanup_action_runs(curator_client, settings):
    """django-axes' own "Clean up expired attempts" read a time axes sets only on a login: it was a 500 every time."""
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    client, _ = curator_client
    expired = AccessAttempt.objects.create(
        username="someone", ip_address="10.0.0.1", user_agent="x", failures_since_start=3, get_data="", post_data=""
    )
    AccessAttempt.objects.filter(pk=expired.pk).update(attempt_time=timezone.now() - timedelta(days=2))
    response = client.post(
        "/admin/axes/accessattempt/",
        {"action": "cleanup_expired_attempts", "_selected_action": [str(expired.pk)], "index": "0"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(pk=expired.pk).exists()
