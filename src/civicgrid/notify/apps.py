from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "civicgrid.notify"
    verbose_name = "通知"

    def ready(self) -> None:
        from civicgrid.notify.alerts import bulk_read_alert_notify
        from civicgrid.privacy.exports import bulk_read_alert

        bulk_read_alert.connect(bulk_read_alert_notify, dispatch_uid="notify-bulk-read-alert")

        # Retention (civicgrid.privacy.retention): the phone or e-mail a message went to, 180 days after.
        from django.db.models import Q

        from civicgrid.privacy.retention import register

        register("notify.address", "notify.Notification", date_field="created_at",
                 condition=Q(state__in=("sent", "failed")), fields=("address",), days=180,
                 description="the phone or e-mail address of a delivered or failed message")
