"""The engine's settings are system checks of the engine (they used to stop settings.py)."""

from __future__ import annotations

from django.test import override_settings

from civicgrid.cases.checks import settings_check


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_the_defaults_pass():
    assert settings_check() == []


def test_extension_limits_need_a_time_unit_and_a_positive_amount():
    with override_settings(CIVICGRID_EXTENSION_MAX={"working_days": 5.0}):
        assert settings_check() == []
    with override_settings(CIVICGRID_EXTENSION_MAX={"fortnights": 1.0, "working_hours": 0.0}):
        errors = settings_check()
    assert ids(errors) == ["civicgrid.cases.E002", "civicgrid.cases.E002"]
    assert "'fortnights' is not a time unit" in errors[0].msg and "working_hours=0.0" in errors[1].msg


def test_score_weights_and_due_soon_settings_are_checked():
    with override_settings(CIVICGRID_SCORE_WEIGHTS="1,2"):
        assert ids(settings_check()) == ["civicgrid.cases.E003"]
    with override_settings(CIVICGRID_DUE_SOON_RATIO=1.5, CIVICGRID_DUE_SOON_MAX_HOURS=-1):
        assert ids(settings_check()) == ["civicgrid.cases.E004", "civicgrid.cases.E004"]
