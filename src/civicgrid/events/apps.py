from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    """Events (事件, 一网统管): the first case type on the engine."""

    name = "civicgrid.events"
    label = "events"
    verbose_name = _("events")

    def ready(self) -> None:
        from civicgrid.events import checks  # noqa: F401  (clock overrides)
        from civicgrid.events.workflow import register_event_type

        register_event_type()
        # Pillow's own decompression-bomb guard (it refuses beyond twice this) follows our photo limit
        # for every image this process opens; photos.py checks the exact limit from the header first.
        from django.conf import settings
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = int(getattr(settings, "CIVICGRID_EVENT_PHOTO_MAX_PIXELS", 40_000_000))
