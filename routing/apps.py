from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing (gateway)"

    def ready(self) -> None:
        from routing import access  # noqa: F401 - connects the receivers that forget revoked gateway keys
