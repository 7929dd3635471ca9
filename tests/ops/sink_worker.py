"""``python -m tests.ops.sink_worker [worker options]``: the worker, with every channel recording each
message id it delivers in the fake gateway's sink (``CIVICGRID_FAKE_GATEWAY_SINK``) before delivering
as usual (in-app messages are still written), so a test can check that every outbox row reached its
people once. A harness for tests and benchmarks only."""

from __future__ import annotations

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from civicgrid.notify.channels import InAppChannel, channel_register, message_id  # noqa: E402
from civicgrid.ops.gateway import FakeSmsGateway  # noqa: E402


class SinkChannel:
    def __init__(self, name: str) -> None:
        self.name = name
        self.gateway = FakeSmsGateway()

    def send(self, notification, recipients) -> int:
        for r in recipients:
            self.gateway.send("", notification.subject, message_id=message_id(notification, r))
        if self.name == "inapp":
            InAppChannel().send(notification, recipients)
        return len(recipients)


for name in ("inapp", "sms", "email"):
    channel_register(SinkChannel(name), name=name)
call_command("worker", *sys.argv[1:])
