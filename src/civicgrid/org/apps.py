from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "civicgrid.org"
    verbose_name = "组织与用户"

    def ready(self) -> None:
        from civicgrid.org import checks, signals, signin  # noqa: F401  (throttle store, token cache, sign-in)
