"""What the working calendar tells the apps that compute with it.

``calendar_year_entered`` is sent inside the transaction that entered (or replaced) a year's
holidays and make-up working days, with ``year``. A receiver recomputes what it computed without
that year's data (the case engine: the open clocks that assumed Monday–Friday) and returns how many
things it recomputed; the calendar adds the answers up for its audit row and its report. A receiver
that raises rolls the entry back. The calendar imports none of its users: they connect here."""

from __future__ import annotations

from django.dispatch import Signal

calendar_year_entered = Signal()
