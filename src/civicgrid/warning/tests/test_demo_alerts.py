"""The demo city's early warning: rules, the planted problems found, alerts in several states."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from civicgrid.warning.models import Alert, AlertRule


def test_the_demo_has_rules_and_alerts_in_several_states(db):
    call_command("demo_load", "--districts", "2", "--streets", "2", "--communities", "2", "--no-progress",
                 "--events", "30", stdout=StringIO(), stderr=StringIO())
    from civicgrid.demo.selectors import demo_city_get
    from civicgrid.demo.warning import demo_warning_load

    assert AlertRule.objects.count() == 5  # the command made the rules (30 events: nothing planted)
    Alert.objects.all().delete()
    AlertRule.objects.all().delete()
    raised = demo_warning_load(city=demo_city_get(), plant=True)
    assert raised >= 2
    kinds = set(Alert.objects.values_list("kind", flat=True))
    assert {"place", "spike"} <= kinds
    states = set(Alert.objects.values_list("state", flat=True))
    assert "open" in states and len(states) >= 3
    assert demo_warning_load(city=demo_city_get(), plant=True) == 0  # a second load does nothing
