"""``python -m tests.ops.slow_sweep_worker [worker options]``: the worker, with each overdue batch of
the sweep held open for ``SLOW_SWEEP_PAUSE`` seconds *inside its transaction*, so a test can kill it
in the middle of a sweep (a fault injection for tests only; production code has no such pause)."""

from __future__ import annotations

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from civicgrid.cases import sweep  # noqa: E402

_original = sweep._overdue_batch


def _slow(*args, **kwargs):
    done = _original(*args, **kwargs)
    time.sleep(float(os.environ.get("SLOW_SWEEP_PAUSE", "0.3")))
    return done


sweep._overdue_batch = _slow
call_command("worker", *sys.argv[1:])
