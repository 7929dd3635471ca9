from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "civicgrid.dispatch"
    verbose_name = "智能派单"
