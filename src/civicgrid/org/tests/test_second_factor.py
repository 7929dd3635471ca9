"""The second factor (TOTP): optional for anyone, required of who may reveal or export personal data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django_otp.oath import totp

from civicgrid.audit.models import AuditEntry
from civicgrid.org.second_factor import can_reach_personal_data

pytestmark = pytest.mark.django_db
PASSWORD = "Correct-Horse-42"


@pytest.fixture(autouse=True)
def _no_device_backoff(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own back-off after a wrong code (1 s, 2 s …)


def _code(device, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def _signed_in(username: str) -> Client:
    c = Client()
    assert c.post("/signin/", {"username": username, "password": PASSWORD}).status_code == 302
    return c


def _allow_reveal(user):
    user.user_permissions.add(Permission.objects.get(codename="reveal_user"))
    return type(user).objects.get(pk=user.pk)


def test_a_revealing_role_must_enrol_before_any_page_and_then_gives_the_code_at_each_sign_in(cast, settings):
    settings.CIVICGRID_SECOND_FACTOR_REQUIRED = True
    alice = _allow_reveal(cast.alice)
    assert can_reach_personal_data(alice)
    c = _signed_in("alice")
    response = c.get("/centre/")
    assert response.status_code == 302 and response["Location"].startswith("/account/second-factor/")
    assert c.get("/api/v1/cases").status_code == 403  # the API too
    page = c.get("/account/second-factor/")
    assert b'id="required"' in page.content and b"otpauth://totp/" in page.content
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    assert c.post("/account/second-factor/", {"token": "000000" if _code(device) != "000000" else "111111"}
                  ).status_code == 400
    assert c.post("/account/second-factor/", {"token": _code(device), "next": "/centre/"})["Location"] == "/centre/"
    assert c.get("/centre/").status_code == 200
    assert AuditEntry.objects.filter(action="org.user.totp_enrolled", target_id=str(alice.pk)).count() == 1
    secret = TOTPDevice.objects.get(user=alice).key
    assert not any(secret in str(row.extra) for row in AuditEntry.objects.all())

    # the next sign-in asks for the code after the password
    c2 = _signed_in("alice")
    response = c2.get("/centre/")
    assert response.status_code == 302 and response["Location"].startswith("/signin/code/")
    device.refresh_from_db()
    assert c2.post("/signin/code/", {"token": "12ab"}).status_code == 400
    assert c2.post("/signin/code/", {"token": _code(device, 1), "next": "/centre/"})["Location"] == "/centre/"
    assert c2.get("/centre/").status_code == 200


def test_a_role_that_cannot_reveal_is_not_asked_unless_it_enrolled(cast, settings):
    settings.CIVICGRID_SECOND_FACTOR_REQUIRED = True
    assert not can_reach_personal_data(cast.bob)
    c = _signed_in("bob")
    assert c.get("/grid/").status_code == 200


def test_the_reveal_is_refused_on_a_session_without_the_code(cast, staff_admin_reveal_target, settings):
    settings.CIVICGRID_SECOND_FACTOR_REQUIRED = True
    from civicgrid.privacy.services import can_reveal

    alice = _allow_reveal(cast.alice)
    alice.is_verified = lambda: False
    assert not can_reveal(alice, type(alice))
    alice.is_verified = lambda: True
    assert can_reveal(alice, type(alice))


def test_wrong_codes_count_as_failed_sign_ins(cast, settings):
    settings.CIVICGRID_SECOND_FACTOR_REQUIRED = True
    settings.LOGIN_MAX_FAILURES = 3
    from civicgrid.org.services import totp_enrol_confirm, totp_enrol_start

    alice = _allow_reveal(cast.alice)
    device = totp_enrol_start(user=alice)
    assert totp_enrol_confirm(user=alice, token=_code(device)) is not None
    c = _signed_in("alice")
    for _ in range(3):
        assert c.post("/signin/code/", {"token": "999999"}).status_code in (400, 429)
    assert c.post("/signin/code/", {"token": "999999"}).status_code == 429


def test_an_admin_role_can_export_personal_data_and_so_needs_the_factor(cast):
    assert can_reach_personal_data(cast.admin_a)
    assert not can_reach_personal_data(cast.bob)  # a grid worker reveals nothing


@pytest.fixture
def staff_admin_reveal_target():
    return None


def test_deploy_check_says_when_the_second_factor_is_off_in_production(settings):
    from civicgrid.org.checks import second_factor_check
    from civicgrid.privacy.checks import retention_check

    settings.ENVIRONMENT, settings.CIVICGRID_SECOND_FACTOR_REQUIRED = "production", False
    assert [m.id for m in second_factor_check()] == ["civicgrid.org.W002"]
    settings.CIVICGRID_SECOND_FACTOR_REQUIRED = True
    assert second_factor_check() == []
    settings.CIVICGRID_RETENTION_DAYS = {"cases.reporter": 0, "nonsense": 5}
    assert sorted(m.id for m in retention_check()) == ["civicgrid.privacy.E004", "civicgrid.privacy.E005"]


def test_anyone_who_enrolled_is_asked_the_code_even_when_not_required(cast, settings):
    settings.CIVICGRID_SECOND_FACTOR_REQUIRED = False
    from civicgrid.org.services import totp_enrol_confirm, totp_enrol_start

    device = totp_enrol_start(user=cast.bob)
    assert totp_enrol_confirm(user=cast.bob, token=_code(device)) is not None
    c = _signed_in("bob")
    assert c.get("/grid/")["Location"].startswith("/signin/code/")
    device.refresh_from_db()
    assert c.post("/signin/code/", {"token": _code(device, 1), "next": "/grid/"})["Location"] == "/grid/"
    assert c.get("/grid/").status_code == 200


def test_a_role_a_case_type_lets_reveal_a_party_must_give_the_code_and_is_refused_the_reveal_without_it(
        cast, settings):
    """Events let dispatchers reveal their reporter's phone (the engine's declaration, no Django
    permission): a dispatcher needs the second factor, and an unverified session is refused the reveal
    even if it slipped past the pages."""
    from django.core.exceptions import PermissionDenied

    from civicgrid.cases.models import Party
    from civicgrid.privacy.services import revealing_roles, sensitive_value_reveal

    assert "dispatcher" in revealing_roles() and "resident" not in revealing_roles()
    assert not can_reach_personal_data(cast.bob)  # a grid worker may reveal no party's values
    settings.CIVICGRID_SECOND_FACTOR_REQUIRED = True
    assert can_reach_personal_data(cast.alice)  # a dispatcher, without any reveal permission
    response = _signed_in("alice").get("/centre/")
    assert response.status_code == 302 and response["Location"].startswith("/account/second-factor/")

    alice = type(cast.alice).objects.get(pk=cast.alice.pk)
    alice.is_verified = lambda: False  # a session that has not given its code
    with pytest.raises(PermissionDenied):
        sensitive_value_reveal(user=alice, instance=Party(), field_name="phone", purpose="回访核实情况",
                               permitted=True)
    alice.is_verified = lambda: True
    sensitive_value_reveal(user=alice, instance=Party(), field_name="phone", purpose="回访核实情况", permitted=True)
