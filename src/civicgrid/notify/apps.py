from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "civicgrid.notify"
    verbose_name = "通知"

    def ready(self) -> None:
        from civicgrid.notify.alerts import bulk_read_alert_notify
        from civicgrid.privacy.exports import bulk_read_alert

        bulk_read_alert.connect(bulk_read_alert_notify, dispatch_uid="notify-bulk-read-alert")
