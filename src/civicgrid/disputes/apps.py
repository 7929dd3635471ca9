from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    """Disputes (矛盾纠纷多元化解): a case type on the engine, with its mediation organisations,
    risk flags and screening reports."""

    name = "civicgrid.disputes"
    label = "disputes"
    verbose_name = _("disputes")

    def ready(self) -> None:
        from civicgrid.disputes.casetype import register_dispute_type

        register_dispute_type()
