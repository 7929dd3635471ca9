from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "civicgrid.org"
    verbose_name = "组织与用户"

    def ready(self) -> None:
        from django.db.models import Q
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from civicgrid.core.refcache import reference_changed
        from civicgrid.org import checks, signals, signin  # noqa: F401  (throttle store, token cache, sign-in)
        from civicgrid.org.models import Department
        from civicgrid.privacy.retention import register

        # A department's service areas are cached reference data (org.selectors): drop them on any change
        # (the same receivers taxonomy connects for its catalogue; one dispatch_uid, connected once).
        post_save.connect(reference_changed, sender=Department, dispatch_uid="refcache-save-Department")
        post_delete.connect(reference_changed, sender=Department, dispatch_uid="refcache-del-Department")
        m2m_changed.connect(reference_changed, sender=Department.service_regions.through,
                            dispatch_uid="refcache-dept-regions")

        # Retention (civicgrid.privacy.retention): a deactivated account's personal data goes 2 years
        # after its last sign-in (the account and its user name stay: the audit trail names them).
        register("org.user.inactive", "org.User", date_field="last_login", condition=Q(is_active=False),
                 fields=("phone", "id_number", "first_name", "last_name", "email", "display_name"), days=2 * 365,
                 description="name, phone, identity number and e-mail of a deactivated account")
