"""Sign-in: throttling per address and account (never a lock), admin lift, strong passwords, idle
sessions."""

from __future__ import annotations

import datetime as dt
import time
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from civicgrid.audit.models import AuditEntry
from civicgrid.org.models import User
from civicgrid.org.passwords import CharacterClassValidator
from civicgrid.org.services import user_unlock
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username: str, password: str, address: str = OWNER, path: str = LOGIN):
    return client.post(path, {"username": username, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=address)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def fail(client, username: str, times: int, address: str = ATTACKER) -> None:
    for _ in range(times):
        assert not signed_in(sign_in(client, username, "wrong-password", address))


def test_fewer_failures_than_the_limit_do_not_slow_anyone_and_a_success_resets_the_count(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES - 1, OWNER)
    assert signed_in(sign_in(client, "alice", PASSWORD))
    client.logout()
    fail(client, "alice", settings.LOGIN_MAX_FAILURES - 1, OWNER)  # counted from zero again
    assert signed_in(sign_in(client, "alice", PASSWORD))


def test_reaching_the_limit_makes_that_address_wait_with_a_429_that_says_how_long(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES)
    response = sign_in(client, "alice", PASSWORD, ATTACKER)  # even the right password waits
    assert response.status_code == 429 and not signed_in(response)
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_LOCK_MINUTES * 60
    assert f"请 {settings.LOGIN_LOCK_MINUTES} 分钟后再试" in response.content.decode()
    assert "_auth_user_id" not in client.session
    row = AuditEntry.objects.get(action="org.user.signin_throttled")
    assert row.target_id == str(cast.alice.pk) and row.extra["address"] == ATTACKER


def test_our_own_sign_in_page_is_throttled_the_same_way(client, cast):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert sign_in(client, "alice", "wrong-password", ATTACKER, "/signin/").status_code == 200
    assert sign_in(client, "alice", PASSWORD, ATTACKER, "/signin/").status_code == 429


def test_the_owner_signs_in_from_another_address_while_the_attacker_waits(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES * 3)
    assert sign_in(Client(), "alice", PASSWORD, ATTACKER).status_code == 429
    assert signed_in(sign_in(client, "alice", PASSWORD, OWNER))
    assert signed_in(sign_in(Client(), "bob", PASSWORD, ATTACKER))  # and other accounts from there


def test_someone_elses_failed_sign_ins_never_end_a_live_session(cast):
    owner = Client()
    assert signed_in(sign_in(owner, "alice", PASSWORD, OWNER))
    fail(Client(), "alice", settings.LOGIN_MAX_FAILURES * 3)
    assert owner.get("/admin/", REMOTE_ADDR=OWNER).status_code == 200
    assert owner.session["_auth_user_id"] == str(cast.alice.pk)


def test_attempts_during_a_cool_down_do_not_renew_it(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES)
    later = time.time() + settings.LOGIN_LOCK_MINUTES * 60 - 5
    with mock.patch("civicgrid.core.ratelimit.time.time", return_value=later):
        for _ in range(settings.LOGIN_MAX_FAILURES * 2):
            response = sign_in(client, "alice", "wrong-password", ATTACKER)
            assert response.status_code == 429
        assert int(response["Retry-After"]) <= 6  # the first cool-down's end, not a new one
    assert AuditEntry.objects.filter(action="org.user.signin_throttled").count() == 1


def test_one_address_guessing_across_many_accounts_waits_too(client, cast, settings):
    settings.CIVICGRID_SIGNIN_MAX_PER_ADDRESS = 6
    for name in ("alice", "bob", "charlie", "admin_a", "nobody", "nobody2"):
        fail(client, name, 1)
    assert sign_in(client, "bob", PASSWORD, ATTACKER).status_code == 429
    assert signed_in(sign_in(client, "bob", PASSWORD, OWNER))


def test_failures_for_an_unknown_username_write_no_audit_row(client, cast):
    fail(client, "nobody-here", settings.LOGIN_MAX_FAILURES + 1)
    assert not AuditEntry.objects.filter(action="org.user.signin_throttled").exists()


def test_an_administrator_can_lift_a_cool_down_before_it_ends(client, cast):
    fail(client, "alice", settings.LOGIN_MAX_FAILURES)
    user_unlock(actor=cast.admin_a, user=User.objects.get(pk=cast.alice.pk))
    assert AuditEntry.objects.get(action="org.user.unlock").actor_id == cast.admin_a.pk
    assert signed_in(sign_in(client, "alice", PASSWORD, ATTACKER))


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


PROXY = "10.0.0.2"  # our TLS proxy: every request reaches the app from it


def test_behind_our_proxy_the_owner_still_signs_in_while_the_attacker_waits(cast, settings):
    # Behind a proxy the socket's address is the proxy's for everyone; counting it would let one
    # attacker keep alice out for the whole city. The client address is the one our proxy appended.
    settings.CIVICGRID_PROXY_HOPS = 1

    def via_proxy(client, username, password, client_addr, spoofed=""):
        forwarded = f"{spoofed}, {client_addr}" if spoofed else client_addr
        return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"},
                           REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)

    attacker = Client()
    for n in range(settings.LOGIN_MAX_FAILURES * 2):
        # the attacker varies what it claims to be (the left part is the client's word) — in vain
        via_proxy(attacker, "alice", "wrong-password", ATTACKER, spoofed=f"192.0.2.{n}")
    assert via_proxy(Client(), "alice", PASSWORD, ATTACKER).status_code == 429
    assert signed_in(via_proxy(Client(), "alice", PASSWORD, OWNER))


def test_without_proxy_hops_a_forwarded_header_is_the_clients_word_and_ignored(cast, settings):
    settings.CIVICGRID_PROXY_HOPS = 0
    for n in range(settings.LOGIN_MAX_FAILURES):
        Client().post(LOGIN, {"username": "alice", "password": "wrong-password", "next": "/admin/"},
                      REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    refused = Client().post(LOGIN, {"username": "alice", "password": PASSWORD, "next": "/admin/"},
                            REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert refused.status_code == 429
