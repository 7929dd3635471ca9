from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "civicgrid.notify"
    verbose_name = "通知"
