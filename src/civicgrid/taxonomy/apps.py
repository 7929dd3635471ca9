from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "civicgrid.taxonomy"
    verbose_name = "分类与派单目录"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from civicgrid.core.refcache import reference_changed
        from civicgrid.org.models import Department
        from civicgrid.taxonomy.models import Category, DeadlineRule, DispatchRule, RequestType

        # The catalogue's answers are cached per process (core.refcache): drop them on any change.
        for model in (Category, RequestType, DeadlineRule, DispatchRule, Department):
            post_save.connect(reference_changed, sender=model, dispatch_uid=f"refcache-save-{model.__name__}")
            post_delete.connect(reference_changed, sender=model, dispatch_uid=f"refcache-del-{model.__name__}")
        m2m_changed.connect(reference_changed, sender=Department.service_regions.through,
                            dispatch_uid="refcache-dept-regions")
