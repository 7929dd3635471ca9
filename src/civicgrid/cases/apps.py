from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    verbose_name = "案件引擎"

    def ready(self) -> None:
        from civicgrid.cases import checks  # noqa: F401  (the engine's settings)
        from civicgrid.cases.timers import calendar_year_entered_recompute
        from civicgrid.workcal.signals import calendar_year_entered

        # Entering a year of the working calendar recomputes the clocks that assumed Monday–Friday.
        calendar_year_entered.connect(calendar_year_entered_recompute, dispatch_uid="cases.timers.recompute")
