from django.apps import AppConfig


class ModelgraphConfig(AppConfig):
    """The project itself as an app, for project-wide management commands (schedules, bootstrap)."""

    name = "modelgraph"
    verbose_name = "ModelGraph"

    def ready(self) -> None:
        from modelgraph.api import client_ip, openapi  # noqa: F401  (system checks; the admin-key schema extension)
