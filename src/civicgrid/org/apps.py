from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "civicgrid.org"
    verbose_name = "组织与用户"

    def ready(self) -> None:
        # Retention (civicgrid.privacy.retention): a deactivated account's personal data goes 2 years
        # after its last sign-in (the account and its user name stay: the audit trail names them).
        from django.db.models import Q

        from civicgrid.org import checks, signals, signin  # noqa: F401  (throttle store, token cache, sign-in)
        from civicgrid.privacy.retention import register

        register("org.user.inactive", "org.User", date_field="last_login", condition=Q(is_active=False),
                 fields=("phone", "id_number", "first_name", "last_name", "email", "display_name"), days=2 * 365,
                 description="name, phone, identity number and e-mail of a deactivated account")
