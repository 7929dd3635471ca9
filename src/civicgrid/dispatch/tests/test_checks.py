from __future__ import annotations

from django.test import override_settings

from civicgrid.dispatch.checks import fractions_check


def test_the_dispatch_fractions_lie_between_0_and_1():
    assert fractions_check() == []
    with override_settings(CIVICGRID_DISPATCH_MIN_CONFIDENCE=1.2, CIVICGRID_DISPATCH_DUPLICATE_MIN_SIMILARITY=3):
        errors = fractions_check()
    assert [e.id for e in errors] == ["civicgrid.dispatch.E001"] * 2
    assert "CIVICGRID_DISPATCH_MIN_CONFIDENCE" in errors[0].msg and "(it is 3)" in errors[1].msg
