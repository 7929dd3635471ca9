"""Seed the working calendar with every year the installed ``chinese-calendar`` knows: the national
holidays on weekdays and the make-up working days (调休上班) on weekends. Years already present are
left as they are (an administrator may have corrected them). Reversing removes the years this
migration entered (those whose source is still the package)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import migrations

SOURCE = "chinese-calendar"


def seed(apps: Any, schema_editor: Any) -> None:
    import chinese_calendar

    from civicgrid.workcal.holidays import calendar_exceptions, covered_years

    CalendarYear = apps.get_model("cases", "CalendarYear")
    WorkingDay = apps.get_model("cases", "WorkingDay")
    db = schema_editor.connection.alias
    present = set(CalendarYear.objects.using(db).values_list("year", flat=True))
    source = f"{SOURCE} {getattr(chinese_calendar, '__version__', '')}".strip()
    years, days = [], []
    for year in covered_years():
        if year in present:
            continue
        exceptions = calendar_exceptions(year)
        if exceptions is None:
            continue
        years.append(CalendarYear(year=year, source=source))
        days += [WorkingDay(day=day, is_working=working, name=name[:40])
                 for day, (working, name) in sorted(exceptions.items())]
    taken = set(WorkingDay.objects.using(db).filter(day__in=[d.day for d in days]).values_list("day", flat=True))
    WorkingDay.objects.using(db).bulk_create([d for d in days if d.day not in taken], batch_size=500)
    CalendarYear.objects.using(db).bulk_create(years, batch_size=500)


def unseed(apps: Any, schema_editor: Any) -> None:
    CalendarYear = apps.get_model("cases", "CalendarYear")
    WorkingDay = apps.get_model("cases", "WorkingDay")
    db = schema_editor.connection.alias
    for row in CalendarYear.objects.using(db).filter(source__startswith=SOURCE):
        WorkingDay.objects.using(db).filter(day__gte=dt.date(row.year, 1, 1), day__lte=dt.date(row.year, 12, 31)).delete()
        row.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, unseed, elidable=False),
    ]
