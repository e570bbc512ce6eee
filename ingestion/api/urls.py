from django.urls import re_path

from ingestion.api.curation_views import (
    AliasDetailView,
    AliasListView,
    ModelLifecycleView,
    ModelMergeView,
    ModelPinReleaseView,
    ModelPinView,
    OfferLifecycleView,
    OfferPinReleaseView,
    OfferPinView,
)
from ingestion.api.review_views import ReviewQueueView
from ingestion.api.views import IngestionRunListView, IngestView

SLUG = r"(?P<slug>[a-z0-9][a-z0-9._-]*)"
OFFER = r"(?P<pk>[0-9]+)"
FIELD = r"(?P<field>[a-z0-9_]+)"

urlpatterns = [
    re_path(r"^ingestion-runs/?$", IngestionRunListView.as_view(), name="ingestion-runs"),
    re_path(r"^ingest/(?P<source>[a-z0-9_.-]+)/?$", IngestView.as_view(), name="ingest"),
    re_path(r"^aliases/?$", AliasListView.as_view(), name="curation-aliases"),
    re_path(r"^aliases/(?P<alias>.+?)/?$", AliasDetailView.as_view(), name="curation-alias"),
    re_path(rf"^models/{SLUG}/pins/?$", ModelPinView.as_view(), name="curation-model-pins"),
    re_path(rf"^models/{SLUG}/pins/{FIELD}/?$", ModelPinReleaseView.as_view(), name="curation-model-pin"),
    re_path(rf"^models/{SLUG}/lifecycle/?$", ModelLifecycleView.as_view(), name="curation-model-lifecycle"),
    re_path(rf"^models/{SLUG}/merge/?$", ModelMergeView.as_view(), name="curation-model-merge"),
    re_path(rf"^offers/{OFFER}/pins/?$", OfferPinView.as_view(), name="curation-offer-pins"),
    re_path(rf"^offers/{OFFER}/pins/{FIELD}/?$", OfferPinReleaseView.as_view(), name="curation-offer-pin"),
    re_path(rf"^offers/{OFFER}/lifecycle/?$", OfferLifecycleView.as_view(), name="curation-offer-lifecycle"),
    re_path(r"^review/?$", ReviewQueueView.as_view(), name="review-queue"),
]
