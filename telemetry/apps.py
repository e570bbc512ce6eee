from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "telemetry"

    def ready(self) -> None:
        from catalog.ranking import offer_telemetry_register
        from telemetry.selectors import offer_telemetry

        # catalog ranks offers by telemetry without importing it: telemetry plugs its scorer in.
        offer_telemetry_register(offer_telemetry)
