"""The case engine's system checks (``civicgrid check``, and every management command)."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def test_working_hours_that_do_not_parse_stop_the_check_naming_the_setting(settings):
    settings.CIVICGRID_WORKING_HOURS = "13:00-12:00"
    with pytest.raises(SystemCheckError, match=r"civicgrid\.workcal\.E001.*CIVICGRID_WORKING_HOURS.*ends before"):
        call_command("check")


def test_good_working_hours_pass_the_check(settings):
    settings.CIVICGRID_WORKING_HOURS = "08:30-12:00,14:00-17:30"
    call_command("check")
