from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "civicgrid.privacy"
    verbose_name = "个人信息保护"

    def ready(self) -> None:
        from civicgrid.privacy import checks  # noqa: F401  (keys)
