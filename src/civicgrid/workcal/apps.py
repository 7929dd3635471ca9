from django.apps import AppConfig


class WorkcalConfig(AppConfig):
    name = "civicgrid.workcal"
    verbose_name = "工作日历"

    def ready(self) -> None:
        from civicgrid.workcal import checks  # noqa: F401  (warns when the working calendar lacks a year)
