from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "civicgrid.org"
    verbose_name = "组织与用户"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from civicgrid.core.refcache import reference_changed
        from civicgrid.org import checks, signals, signin  # noqa: F401  (throttle store, token cache, sign-in)
        from civicgrid.org.models import Department

        # A department's service areas are cached reference data (org.selectors): drop them on any change
        # (the same receivers taxonomy connects for its catalogue; one dispatch_uid, connected once).
        post_save.connect(reference_changed, sender=Department, dispatch_uid="refcache-save-Department")
        post_delete.connect(reference_changed, sender=Department, dispatch_uid="refcache-del-Department")
        m2m_changed.connect(reference_changed, sender=Department.service_regions.through,
                            dispatch_uid="refcache-dept-regions")
