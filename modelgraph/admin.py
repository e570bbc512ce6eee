"""Admin for bearer keys (issued here and shown once, revoked, never deleted) and the core's admin-API keys."""

from axes.admin import AccessAttemptAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from modelgraph.admin_relations import SafeRelationsAdmin
from modelgraph.api_keys import hashed_key_issue, hashed_keys_revoke
from modelgraph.models import ApiKey, ApiScope, default_api_scopes


class HashedKeyAdmin(admin.ModelAdmin):
    """A key is issued by saving the add form (shown once in a message) and revoked by the action, never deleted."""

    noun = "key"
    list_display = ("name", "prefix", "created_at", "created_by", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "created_by", "revoked_at")
    fields = ("name", *readonly_fields)
    actions = ("revoke",)

    def issue(self, key, user) -> str:
        return hashed_key_issue(key=key, user=user)

    def revoke_keys(self, queryset) -> int:
        return hashed_keys_revoke(keys=queryset)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the audit trail

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        raw = self.issue(obj, request.user)
        self.message_user(
            request,
            f"{self.noun.capitalize()} for {obj.name}: {raw} — copy it now, it is not stored and will not be shown "
            "again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        self.message_user(request, f"{self.revoke_keys(queryset)} {self.noun}(s) revoked.", messages.SUCCESS)


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=default_api_scopes,
        help_text="What the key may do; each admin-API endpoint needs one scope (403 without it).",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes")


@admin.register(ApiKey)
class ApiKeyAdmin(HashedKeyAdmin):
    form = ApiKeyForm
    list_display = (*HashedKeyAdmin.list_display, "scopes", "last_used_at")
    readonly_fields = (*HashedKeyAdmin.readonly_fields, "last_used_at")
    fields = ("name", "scopes", *readonly_fields)


class AccountAdmin(SafeRelationsAdmin, UserAdmin):
    """Django's user admin; a hostile id posted for its groups or permissions is a form error, not a 500."""


class AccountGroupAdmin(SafeRelationsAdmin, GroupAdmin):
    """Django's group admin, with the same relation fields."""


class LockoutAttemptAdmin(AccessAttemptAdmin):
    """django-axes' admin for login attempts; its "Clean up expired attempts" action read the time the request came
    in, which axes sets only on a login (an AttributeError, a 500, whenever a curator ran it)."""

    @admin.action(description="Clean up expired attempts")
    def cleanup_expired_attempts(self, request, queryset):
        AxesProxyHandler.update_request(request)
        return super().cleanup_expired_attempts(request, queryset)


_REPLACED = ((get_user_model(), AccountAdmin), (Group, AccountGroupAdmin), (AccessAttempt, LockoutAttemptAdmin))
for _model, _admin_class in _REPLACED:
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin_class)
