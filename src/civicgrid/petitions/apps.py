from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    """Petitions (信访): a case type on the engine under the statutory clock of the 信访工作条例."""

    name = "civicgrid.petitions"
    label = "petitions"
    verbose_name = _("petitions")

    def ready(self) -> None:
        from civicgrid.petitions.casetype import register_petition_type

        register_petition_type()
