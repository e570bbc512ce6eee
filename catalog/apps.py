from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from catalog import invalidation
        from catalog.api import precompute

        invalidation.connect()
        precompute.connect()  # after invalidation: the hottest answers are rendered once the versions are bumped
