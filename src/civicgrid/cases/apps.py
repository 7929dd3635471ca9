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

        # The roles a case type lets reveal its parties' values must give the second factor too.
        from civicgrid.cases import registry
        from civicgrid.privacy.services import revealing_roles_provide

        revealing_roles_provide(registry.revealing_roles)

        # Retention (civicgrid.privacy.retention): the reporter's name and phone go 3 years after closing.
        from civicgrid.privacy.retention import register

        register("cases.reporter", "cases.Case", date_field="closed_at", fields=("reporter_name", "reporter_phone"),
                 days=3 * 365, description="the reporter's name and phone on a closed case")
        register("cases.party", "cases.Party", date_field="case__closed_at",
                 fields=("name", "id_number", "phone", "address"), days=3 * 365,
                 description="a party's name, identity number, phone and address on a closed case")
