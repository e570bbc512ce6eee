"""The gateway's OpenAI-compatible routes (mounted under /v1/); a trailing slash is optional; any other path under
/v1/ answers a JSON 404, never Django's page (a newline in a path included: `(?s:…)`)."""

from django.urls import re_path

from routing import views

urlpatterns = [
    re_path(r"^chat/completions/?$", views.chat_completions, name="gateway-chat-completions"),
    re_path(r"^models/?$", views.models_list, name="gateway-models"),
    re_path(r"^models/(?P<model_id>(?s:.+?))/?$", views.model_detail, name="gateway-model"),
    re_path(r"^(?P<path>(?s:.*))$", views.not_found, name="gateway-not-found"),
]
