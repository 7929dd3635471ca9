from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "civicgrid.geo"
    verbose_name = "区域与网格"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from civicgrid.core.refcache import reference_changed
        from civicgrid.geo.models import Region

        # Region names and the served cities are among the per-process reference answers.
        post_save.connect(reference_changed, sender=Region, dispatch_uid="refcache-save-Region")
        post_delete.connect(reference_changed, sender=Region, dispatch_uid="refcache-del-Region")
