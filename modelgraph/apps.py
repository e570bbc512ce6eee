from django.apps import AppConfig


class ModelgraphConfig(AppConfig):
    """The project itself as an app, for project-wide management commands (schedules, bootstrap)."""

    name = "modelgraph"
    verbose_name = "ModelGraph"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from modelgraph.api import client_ip, openapi  # noqa: F401  (system checks; the admin-key schema extension)
        from modelgraph.heartbeat import worker_spawned

        post_spawn.connect(worker_spawned, dispatch_uid="modelgraph.worker_heartbeat")
