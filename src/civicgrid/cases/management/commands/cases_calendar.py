"""``civicgrid cases calendar``: the old name of ``civicgrid workcal calendar`` (the working calendar
left the case engine for ``civicgrid.workcal``), kept so operators' scripts and habits still work."""

from __future__ import annotations

from civicgrid.workcal.management.commands.workcal_calendar import Command as WorkcalCalendarCommand


class Command(WorkcalCalendarCommand):
    help = "The old name of `civicgrid workcal calendar` (the working calendar: list, show, import, package)."
