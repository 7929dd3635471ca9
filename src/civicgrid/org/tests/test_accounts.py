"""Sign-in: lockout after repeated failures, admin unlock, strong passwords, idle sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.utils import timezone

from civicgrid.audit.models import AuditEntry
from civicgrid.org.auth import is_locked
from civicgrid.org.models import User
from civicgrid.org.passwords import CharacterClassValidator
from civicgrid.org.services import user_unlock
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def sign_in(client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def fail(client, username: str, times: int) -> None:
    for _ in range(times):
        assert not signed_in(sign_in(client, username, "wrong-password"))


def test_fewer_failures_than_the_limit_do_not_lock_and_a_success_resets_the_counter(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES - 1)
    assert User.objects.get(pk=cast.alice.pk).failed_logins == settings.LOGIN_MAX_FAILURES - 1
    assert signed_in(sign_in(client, "alice", PASSWORD))
    alice = User.objects.get(pk=cast.alice.pk)
    assert (alice.failed_logins, alice.locked_until) == (0, None)
    # and the count starts again from zero: another N-1 failures still do not lock
    client.logout()
    fail(client, "alice", settings.LOGIN_MAX_FAILURES - 1)
    assert signed_in(sign_in(client, "alice", PASSWORD))


def test_reaching_the_limit_locks_the_account_even_against_the_right_password(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES)
    alice = User.objects.get(pk=cast.alice.pk)
    assert is_locked(alice)
    expected = timezone.now() + dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    assert abs((alice.locked_until - expected).total_seconds()) < 60
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 200 and not signed_in(response)
    assert "_auth_user_id" not in client.session
    lock = AuditEntry.objects.get(action="org.user.lock")
    assert lock.target_id == str(cast.alice.pk) and lock.extra["minutes"] == settings.LOGIN_LOCK_MINUTES


def test_the_account_opens_again_once_the_lock_has_passed(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES)
    User.objects.filter(pk=cast.alice.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert signed_in(sign_in(client, "alice", PASSWORD))
    alice = User.objects.get(pk=cast.alice.pk)
    assert (alice.failed_logins, alice.locked_until) == (0, None)


def test_attempts_during_a_lock_neither_extend_it_nor_write_more_lock_rows(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES)
    until = User.objects.get(pk=cast.alice.pk).locked_until
    fail(client, "alice", settings.LOGIN_MAX_FAILURES + 1)
    assert User.objects.get(pk=cast.alice.pk).locked_until == until
    assert AuditEntry.objects.filter(action="org.user.lock").count() == 1


def test_one_account_locking_does_not_touch_another(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES)
    assert signed_in(sign_in(client, "bob", PASSWORD))


def test_failures_for_an_unknown_username_are_harmless(client, cast):
    fail(client, "nobody-here", settings.LOGIN_MAX_FAILURES + 1)
    assert not AuditEntry.objects.filter(action="org.user.lock").exists()


def test_an_administrator_can_unlock_an_account_before_the_lock_expires(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES)
    user_unlock(actor=cast.admin_a, user=User.objects.get(pk=cast.alice.pk))
    row = AuditEntry.objects.get(action="org.user.unlock")
    assert row.actor_id == cast.admin_a.pk and row.before["locked_until"] is not None
    assert signed_in(sign_in(client, "alice", PASSWORD))


@pytest.mark.parametrize("weak", ["Sh0rt!x", "12345678901234", "onlylowercaseletters", "password123",
                                  "ALLUPPERCASE1234"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


def test_a_password_like_the_username_is_refused(cast):
    with pytest.raises(ValidationError):
        validate_password("Admin_a-12", cast.admin_a)
    validate_password("Admin_a-12", cast.alice)  # the same password is fine for someone else


@pytest.mark.parametrize("strong", [PASSWORD, "Zhang-San-2024!", "纵横四海-Grid-7"])
def test_strong_passwords_pass(strong):
    validate_password(strong)


def test_the_character_class_rule_counts_lower_upper_digits_and_others():
    rule = CharacterClassValidator(min_classes=3)
    rule.validate("abcDEF123")
    rule.validate("abc-def-123")
    with pytest.raises(ValidationError) as exc:
        rule.validate("abcdefghij1")
    assert exc.value.code == "password_too_simple"
    assert "3" in rule.get_help_text()


def test_sessions_end_with_the_browser_and_are_renewed_on_each_request():
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_the_session_cookie_has_no_expiry_date_so_it_dies_with_the_browser(client, cast):
    response = sign_in(client, "alice", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""


def test_activity_pushes_the_idle_deadline_forward(client, cast):
    sign_in(client, "alice", PASSWORD)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + dt.timedelta(seconds=60))
    assert client.get("/admin/").status_code == 200
    remaining = Session.objects.get(session_key=key).expire_date - timezone.now()
    assert remaining > dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_an_idle_session_past_the_cookie_age_is_signed_out(client, cast):
    sign_in(client, "alice", PASSWORD)
    assert client.get("/admin/").status_code == 200
    key = client.session.session_key
    # Idle for longer than SESSION_COOKIE_AGE: the stored expiry is in the past.
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
