from django.apps import AppConfig


class WarningConfig(AppConfig):
    name = "civicgrid.warning"
    label = "warning"
    verbose_name = "一网统防"

    def ready(self) -> None:
        from civicgrid.core.loops import worker_step_register
        from civicgrid.warning.services import warning_worker_step

        # the case worker runs this beside its deadline sweep (civicgrid worker), on its own thread
        worker_step_register("warning", warning_worker_step, interval=60.0)
