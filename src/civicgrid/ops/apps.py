from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "civicgrid.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from civicgrid.ops.dbhealth import check_idle_connections, mark_idle

        request_started.connect(check_idle_connections, weak=False, dispatch_uid="civicgrid.ops.dbhealth.check")
        request_finished.connect(mark_idle, weak=False, dispatch_uid="civicgrid.ops.dbhealth.mark")
