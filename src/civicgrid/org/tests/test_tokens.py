"""API tokens (接口令牌): made and revoked through the services, hashed at rest, acting as their user
within their scopes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from civicgrid.audit.models import AuditEntry
from civicgrid.org.models import ApiToken
from civicgrid.org.scoping import OutOfScope
from civicgrid.org.services import token_create, token_revoke

pytestmark = pytest.mark.django_db

A_GRID, B_GRID = "440301001001001", "440302001001001"


def bearer(text: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {text}"}


def test_a_token_reads_what_its_user_may_see_and_nothing_else(cast, client):
    token, text = token_create(actor=None, user=cast.alice, name="reporting", scopes=["read"])
    assert text.startswith(f"cg_{token.prefix}_")
    assert text.split("_", 2)[2] not in token.secret_hash  # only a keyed hash is stored
    assert client.get(f"/api/v1/regions/{A_GRID}", **bearer(text)).status_code == 200
    assert client.get(f"/api/v1/regions/{B_GRID}", **bearer(text)).status_code == 404  # charlie's district
    # the same token in X-Api-Key
    assert client.get(f"/api/v1/regions/{A_GRID}", HTTP_X_API_KEY=text).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_a_token_without_the_scope_is_refused_with_403(cast, client):
    _token, text = token_create(actor=None, user=cast.admin_a, name="intake only", scopes=["intake"])
    r = client.get(f"/api/v1/regions/{A_GRID}", **bearer(text))
    assert r.status_code == 403 and "read" in r.json()["error"]["message"]
    _token, reader = token_create(actor=None, user=cast.admin_a, name="reader", scopes=["read"])
    r = client.patch(f"/api/v1/regions/{A_GRID}", {"name": "改名"}, content_type="application/json", **bearer(reader))
    assert r.status_code == 403 and "write" in r.json()["error"]["message"]
    _token, writer = token_create(actor=None, user=cast.admin_a, name="writer", scopes=["read", "write"])
    r = client.patch(f"/api/v1/regions/{A_GRID}", {"name": "改名"}, content_type="application/json", **bearer(writer))
    assert r.status_code == 200 and r.json()["name"] == "改名"


@pytest.mark.parametrize("spoil", ["revoke", "expire", "wrong secret", "deactivate", "garbage"])
def test_refused_tokens_answer_401(cast, client, spoil):
    token, text = token_create(actor=None, user=cast.alice, name="x", scopes=["read"])
    if spoil == "revoke":
        token_revoke(actor=None, token=token)
    elif spoil == "expire":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif spoil == "wrong secret":
        text = text[:-2] + ("AA" if not text.endswith("AA") else "BB")
    elif spoil == "deactivate":
        cast.alice.is_active = False
        cast.alice.save(update_fields=["is_active"])
    else:
        text = "not-a-token"
    r = client.get(f"/api/v1/regions/{A_GRID}", **bearer(text))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"


def test_bad_token_requests_name_the_field_and_only_managers_make_tokens(cast):
    with pytest.raises(ValidationError) as err:
        token_create(actor=None, user=cast.alice, name="", scopes=["read", "everything"])
    assert {"name", "scopes"} <= set(err.value.message_dict)
    with pytest.raises(OutOfScope):  # charlie manages nobody in district A
        token_create(actor=cast.charlie, user=cast.alice, name="x", scopes=["read"])
    token, _text = token_create(actor=cast.admin_a, user=cast.alice, name="ok", scopes=["read"])
    assert AuditEntry.objects.filter(action="org.token.create", target_id=str(token.pk)).exists()


def test_the_command_makes_lists_and_revokes_tokens(cast, capsys):
    call_command("org_token", "create", "--user", "alice", "--name", "12345 热线", "--scopes", "intake,read")
    out = capsys.readouterr().out
    text = out.strip().splitlines()[-1]
    assert text.startswith("cg_")
    token = ApiToken.objects.get(name="12345 热线")
    assert token.scopes == ["intake", "read"]
    call_command("org_token", "list")
    assert token.prefix in capsys.readouterr().out
    call_command("org_token", "revoke", text)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    with pytest.raises(CommandError, match="no such user"):
        call_command("org_token", "create", "--user", "nobody", "--name", "x", "--scopes", "read")
    with pytest.raises(CommandError, match="scope"):
        call_command("org_token", "create", "--user", "alice", "--name", "x", "--scopes", "root")


def test_a_process_remembers_a_live_token_for_a_few_seconds_only(cast, client, settings):
    """Intake reads the token on every request: each process remembers a live one for
    CIVICGRID_TOKEN_CACHE_SECONDS. What this process changes it sees at once; a change made by
    another process (here: a bulk UPDATE, which sends no signal) within that time."""
    from civicgrid.org.services import tokens_forget

    settings.CIVICGRID_TOKEN_CACHE_SECONDS = 300
    token, text = token_create(actor=None, user=cast.alice, name="x", scopes=["read"])
    assert client.get(f"/api/v1/regions/{A_GRID}", **bearer(text)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # "another process"
    assert client.get(f"/api/v1/regions/{A_GRID}", **bearer(text)).status_code == 200  # remembered
    tokens_forget()  # what the time limit does
    assert client.get(f"/api/v1/regions/{A_GRID}", **bearer(text)).status_code == 401

    token, text = token_create(actor=None, user=cast.alice, name="y", scopes=["read"])
    assert client.get(f"/api/v1/regions/{A_GRID}", **bearer(text)).status_code == 200
    token_revoke(actor=None, token=token)  # this process: refused at once
    assert client.get(f"/api/v1/regions/{A_GRID}", **bearer(text)).status_code == 401

    token, text = token_create(actor=None, user=cast.alice, name="z", scopes=["read"])
    assert client.get(f"/api/v1/regions/{A_GRID}", **bearer(text)).status_code == 200
    cast.alice.is_active = False
    cast.alice.save(update_fields=["is_active"])
    assert client.get(f"/api/v1/regions/{A_GRID}", **bearer(text)).status_code == 401

    settings.CIVICGRID_TOKEN_CACHE_SECONDS = 0  # off: every request reads the token
    cast.alice.is_active = True
    cast.alice.save(update_fields=["is_active"])
    token, text = token_create(actor=None, user=cast.alice, name="w", scopes=["read"])
    assert client.get(f"/api/v1/regions/{A_GRID}", **bearer(text)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert client.get(f"/api/v1/regions/{A_GRID}", **bearer(text)).status_code == 401


def test_a_remembered_token_still_sees_its_users_new_roles(cast, client, settings):
    """Only copies of the remembered token and user reach a request: what one request works out
    about its user (roles, reach) is not carried into the next."""
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant

    settings.CIVICGRID_TOKEN_CACHE_SECONDS = 300
    _token, text = token_create(actor=None, user=cast.alice, name="x", scopes=["read"])
    assert client.get(f"/api/v1/regions/{B_GRID}", **bearer(text)).status_code == 404
    membership_grant(actor=None, user=cast.alice, role=Role.DISPATCHER, region=cast.city.get("440302001"))
    assert client.get(f"/api/v1/regions/{B_GRID}", **bearer(text)).status_code == 200


def test_every_audit_row_of_an_action_taken_with_a_token_names_who_minted_it(cast, client):
    _token, text = token_create(actor=cast.admin_a, user=cast.alice, name="alice's app", scopes=["intake"])
    before = AuditEntry.objects.count()
    response = client.post("/api/v1/events", {"text": "路灯不亮", "lon": 114.02, "lat": 22.51},
                           content_type="application/json", **bearer(text))
    assert response.status_code == 201, response.content
    rows = list(AuditEntry.objects.order_by("id")[before:])
    assert rows and all(r.actor_id == cast.alice.pk for r in rows)
    assert {(r.token_minter_id, r.token_minter_name) for r in rows} == {(cast.admin_a.pk, "admin_a")}


def test_a_session_action_names_no_token_minter(cast, client):
    client.force_login(cast.alice)
    before = AuditEntry.objects.count()
    assert client.post("/api/v1/events", {"text": "路灯不亮", "lon": 114.02, "lat": 22.51},
                       content_type="application/json").status_code == 201
    assert {r.token_minter_id for r in AuditEntry.objects.order_by("id")[before:]} == {None}


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_API_KEY"])
def test_a_refused_token_beside_a_valid_session_answers_401_not_the_session(cast, client, header):
    client.force_login(cast.alice)
    assert client.get(f"/api/v1/regions/{A_GRID}").status_code == 200  # the session alone works
    bad = "Bearer cg_dead_beef" if header == "HTTP_AUTHORIZATION" else "cg_dead_beef"
    response = client.get(f"/api/v1/regions/{A_GRID}", **{header: bad})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
