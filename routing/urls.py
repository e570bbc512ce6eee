"""The gateway's OpenAI-compatible routes (mounted under /v1/); a trailing slash is optional; any other path under
/v1/ answers a JSON 404, never Django's page (a newline in a path included: `(?s:…)`)."""

from django.urls import re_path

from routing import batch_views, views

ID = r"[A-Za-z0-9_.-]{1,100}"

urlpatterns = [
    re_path(r"^chat/completions/?$", views.chat_completions, name="gateway-chat-completions"),
    re_path(r"^embeddings/?$", views.embeddings, name="gateway-embeddings"),
    re_path(r"^models/?$", views.models_list, name="gateway-models"),
    re_path(r"^models/(?P<model_id>(?s:.+?))/?$", views.model_detail, name="gateway-model"),
    # The Batch API (routing/batch_views.py).
    re_path(r"^files/?$", batch_views.files_root, name="gateway-files"),
    re_path(rf"^files/(?P<file_id>{ID})/?$", batch_views.file_detail, name="gateway-file"),
    re_path(rf"^files/(?P<file_id>{ID})/content/?$", batch_views.file_content, name="gateway-file-content"),
    re_path(r"^batches/?$", batch_views.batches_root, name="gateway-batches"),
    re_path(rf"^batches/(?P<batch_id>{ID})/?$", batch_views.batch_detail, name="gateway-batch"),
    re_path(rf"^batches/(?P<batch_id>{ID})/cancel/?$", batch_views.batch_cancel, name="gateway-batch-cancel"),
    re_path(r"^(?P<path>(?s:.*))$", views.not_found, name="gateway-not-found"),
]
