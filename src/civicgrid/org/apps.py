from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "civicgrid.org"
    verbose_name = "组织与用户"

    def ready(self) -> None:
        from civicgrid.org import signals, signin  # noqa: F401  (token cache, sign-in throttling)
