"""The curators' workbench: every catalogue model in the admin, with history, change reasons and provenance."""

from catalog.admin import canonical, offers, quality  # noqa: F401 - importing registers the ModelAdmins and pages
