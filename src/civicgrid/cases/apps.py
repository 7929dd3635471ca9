from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    verbose_name = "案件引擎"

    def ready(self) -> None:
        from civicgrid.cases import checks  # noqa: F401  (warns when the working calendar lacks a year)
