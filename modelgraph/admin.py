"""Admin for the core models: admin-API keys, issued here (shown once) and revoked, never deleted."""

from django.contrib import admin, messages

from modelgraph.api_keys import api_key_issue, api_keys_revoke
from modelgraph.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    fields = ("name", *readonly_fields)
    actions = ("revoke",)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        raw = api_key_issue(key=obj, user=request.user)
        self.message_user(
            request,
            f"Key for {obj.name}: {raw} — copy it now, it is not stored and will not be shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        self.message_user(request, f"{api_keys_revoke(keys=queryset)} key(s) revoked.", messages.SUCCESS)
