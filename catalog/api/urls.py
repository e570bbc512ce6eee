r"""Routes of the public catalogue API (mounted under /api/); a trailing slash is optional everywhere.

`{id}` of a model may be an alias containing slashes (`openai/gpt-4o`), so the sub-resources are matched first;
`[\s\S]` rather than `.` so that no character (not even a newline) falls through to an HTML 404 page.
"""

from django.urls import re_path

from catalog.api.download import CatalogDownloadView, ModelsCSVView, OffersCSVView
from catalog.api.history import OfferHistoryViewSet, PriceChangeViewSet
from catalog.api.views import ModelViewSet, ProviderViewSet, ResolveViewSet

ID = r"(?P<id>[\s\S]+)"
ID_LAST = r"(?P<id>[\s\S]+?)"  # lazy: leaves the optional trailing slash out of the id

urlpatterns = [
    re_path(r"^models/?$", ModelViewSet.as_view({"get": "list"}), name="api-model-list"),
    re_path(rf"^models/{ID}/providers/?$", ModelViewSet.as_view({"get": "providers"}), name="api-model-providers"),
    re_path(rf"^models/{ID}/compare/?$", ModelViewSet.as_view({"get": "compare"}), name="api-model-compare"),
    re_path(rf"^models/{ID_LAST}/?$", ModelViewSet.as_view({"get": "retrieve"}), name="api-model-detail"),
    re_path(r"^providers/?$", ProviderViewSet.as_view({"get": "list"}), name="api-provider-list"),
    re_path(rf"^providers/{ID_LAST}/?$", ProviderViewSet.as_view({"get": "retrieve"}), name="api-provider-detail"),
    re_path(
        r"^offers/(?P<provider>[^/]+)/(?P<provider_model_id>[\s\S]+?)/history/?$",
        OfferHistoryViewSet.as_view({"get": "history"}),
        name="api-offer-history",
    ),
    re_path(r"^price-changes/?$", PriceChangeViewSet.as_view({"get": "list"}), name="api-price-changes"),
    re_path(r"^resolve/?$", ResolveViewSet.as_view({"get": "resolve"}), name="api-resolve"),
    # The whole catalogue in one download (catalog/api/download.py).
    re_path(r"^catalog\.json$", CatalogDownloadView.as_view(), name="api-catalog-download"),
    re_path(r"^export/models\.csv$", ModelsCSVView.as_view(), name="api-export-models"),
    re_path(r"^export/offers\.csv$", OffersCSVView.as_view(), name="api-export-offers"),
]
