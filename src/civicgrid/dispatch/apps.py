from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "civicgrid.dispatch"
    verbose_name = "智能派单"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from civicgrid.dispatch.selectors import categories_changed
        from civicgrid.taxonomy.models import Category

        post_save.connect(categories_changed, sender=Category, dispatch_uid="dispatch.categories_saved")
        post_delete.connect(categories_changed, sender=Category, dispatch_uid="dispatch.categories_deleted")
