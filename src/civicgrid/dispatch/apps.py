from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "civicgrid.dispatch"
    verbose_name = "智能派单"

    def ready(self) -> None:
        from civicgrid.dispatch import checks  # noqa: F401  (fractions)
