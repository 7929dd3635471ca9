from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "civicgrid.ops"
    label = "ops"
    verbose_name = "Operations"
