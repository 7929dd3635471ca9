from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    name = "civicgrid.open311"
    verbose_name = _("Open311 GeoReport v2")

    def ready(self) -> None:
        from civicgrid.core.inputs import register_error_answer
        from civicgrid.open311.formats import input_error

        register_error_answer("/open311/", input_error)
