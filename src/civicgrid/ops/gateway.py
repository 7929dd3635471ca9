"""A fake SMS gateway for the fault tests and benchmarks: ``CIVICGRID_SMS_BACKEND=
civicgrid.ops.gateway.FakeSmsGateway``.

Like a real gateway it is *idempotent by message id*: it keeps every id it was handed, and a
message whose id it has seen is not delivered a second time. It appends one line per call to the
file ``CIVICGRID_FAKE_GATEWAY_SINK`` (``<message id> <pid>``, one ``write`` on a file opened for
appending, so lines of several processes never mix and a ``kill -9`` leaves whole lines), *then*
waits ``CIVICGRID_FAKE_GATEWAY_DELAY`` seconds, as a gateway that accepted the message but is slow
to answer: a worker killed in that wait never marks the message sent and hands it over again later.
:func:`sink_read` counts the calls per id; an id called twice is a repeat the gateway dropped, an
id never called is a lost message.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

from django.conf import settings


class FakeSmsGateway:
    def send(self, phone: str, text: str, *, message_id: str = "") -> None:
        sink = str(getattr(settings, "CIVICGRID_FAKE_GATEWAY_SINK", "") or "")
        if not sink:
            raise RuntimeError("CIVICGRID_FAKE_GATEWAY_SINK is not set")
        if not message_id:
            raise ValueError("the fake gateway needs a message id")
        fd = os.open(sink, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{message_id} {os.getpid()}\n".encode())
        finally:
            os.close(fd)
        delay = float(getattr(settings, "CIVICGRID_FAKE_GATEWAY_DELAY", 0) or 0)
        if delay:
            time.sleep(delay)


def sink_read(path: str | Path) -> Counter[str]:
    """How many times the gateway was handed each message id."""
    counts: Counter[str] = Counter()
    p = Path(path)
    if p.exists():
        for line in p.read_text().splitlines():
            if line.strip():
                counts[line.split()[0]] += 1
    return counts
