"""Routing admin API (mounted under /api/routing/); a trailing slash is optional."""

from django.urls import re_path

from routing.api.keys import GatewayKeyDetailView, GatewayKeyListView
from routing.api.views import RequestLogListView, RouteStateListView, StatsView

urlpatterns = [
    re_path(r"^stats/?$", StatsView.as_view(), name="routing-stats"),
    re_path(r"^requests/?$", RequestLogListView.as_view(), name="routing-requests"),
    re_path(r"^states/?$", RouteStateListView.as_view(), name="routing-states"),
    re_path(r"^keys/?$", GatewayKeyListView.as_view(), name="routing-keys"),
    re_path(r"^keys/(?P<pk>[0-9]{1,18})/?$", GatewayKeyDetailView.as_view(), name="routing-key"),
]
