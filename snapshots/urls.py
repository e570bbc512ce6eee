"""Browser routes of the archive (mounted under /snapshots/)."""

from django.urls import path

from snapshots import views

urlpatterns = [
    path("", views.archive_index, name="snapshots-index"),
    # OpenRouter model ids: `author/slug`, with a variant (`author/slug:free`) or none (`openrouter/auto`).
    path("models/<path:model_id>", views.model_history, name="snapshots-model-history"),
]
