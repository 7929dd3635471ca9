from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    """Events (事件, 一网统管): the first case type on the engine."""

    name = "civicgrid.events"
    label = "events"
    verbose_name = _("events")

    def ready(self) -> None:
        from civicgrid.events.workflow import register_event_type

        register_event_type()
