"""The audited reveal (查看完整信息) and masking in the audit trail."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import MASK, snapshot
from civicgrid.org.models import User
from civicgrid.org.services import user_create, user_update
from civicgrid.privacy.services import masked_value, sensitive_value_reveal
from civicgrid.privacy.validators import id_check_char

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
ID17 = "44030319851231002"
ID_NUMBER = ID17 + id_check_char(ID17)


@pytest.fixture
def resident() -> User:
    return user_create(actor=None, username="resident", password=None, phone=PHONE, id_number=ID_NUMBER,
                       is_staff=False)


@pytest.fixture
def officer() -> User:
    user = user_create(actor=None, username="officer", password=None)
    user.user_permissions.add(Permission.objects.get(codename="reveal_user", content_type__app_label="org"))
    return User.objects.get(pk=user.pk)  # fresh: no stale permission cache


@pytest.fixture
def clerk() -> User:
    return user_create(actor=None, username="clerk", password=None)


def all_audit_json_text() -> str:
    """Every JSON column of every audit row, as the database stores it."""
    fields = AuditEntry._meta.concrete_fields
    json_columns = [f.column for f in fields if f.get_internal_type() == "JSONField"]
    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(json_columns)} FROM audit_auditentry")
        return "\n".join(json.dumps(value) if not isinstance(value, str) else value
                         for row in cur.fetchall() for value in row if value is not None)


def test_a_user_without_the_reveal_permission_is_refused(resident, clerk):
    with pytest.raises(PermissionDenied):
        sensitive_value_reveal(user=clerk, instance=resident, field_name="phone", purpose="回访核实诉求")
    assert not AuditEntry.objects.filter(action="privacy.reveal").exists()


def test_an_anonymous_visitor_is_refused(resident):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        sensitive_value_reveal(user=AnonymousUser(), instance=resident, field_name="phone",
                               purpose="回访核实诉求")


@pytest.mark.parametrize("purpose", ["", "   ", "看看", "abc"])
def test_a_missing_or_too_short_purpose_is_refused(resident, officer, purpose):
    with pytest.raises(ValidationError) as exc:
        sensitive_value_reveal(user=officer, instance=resident, field_name="phone", purpose=purpose)
    assert "purpose" in exc.value.message_dict
    assert not AuditEntry.objects.filter(action="privacy.reveal").exists()


def test_a_permitted_user_gets_the_full_value_and_exactly_one_audit_row(resident, officer):
    value = sensitive_value_reveal(user=officer, instance=resident, field_name="phone",
                                   purpose="回访核实诉求内容")
    assert value == PHONE
    rows = AuditEntry.objects.filter(action="privacy.reveal")
    assert rows.count() == 1
    row = rows.get()
    assert row.actor_id == officer.pk
    assert (row.target_type, row.target_id) == ("org.user", str(resident.pk))
    assert row.extra == {"field": "phone", "purpose": "回访核实诉求内容"}


def test_the_audit_trail_never_holds_the_plain_values(resident, officer):
    sensitive_value_reveal(user=officer, instance=resident, field_name="phone", purpose="回访核实诉求内容")
    sensitive_value_reveal(user=officer, instance=resident, field_name="id_number", purpose="核对身份信息")
    user_update(actor=None, user=resident, phone="13700000000")  # a system update
    text = all_audit_json_text()
    assert AuditEntry.objects.filter(action__in=["org.user.create", "org.user.update"]).exists()
    for plain in (PHONE, ID_NUMBER, "13700000000", PHONE[-8:], ID_NUMBER[6:14]):
        assert plain not in text
    assert not any(PHONE in (r.target_repr or "") for r in AuditEntry.objects.all())


def test_a_non_sensitive_field_cannot_be_revealed_through_the_service(resident, officer):
    with pytest.raises(ValueError):
        sensitive_value_reveal(user=officer, instance=resident, field_name="username", purpose="随便看看内容")


def test_audit_snapshots_mask_sensitive_fields_and_skip_their_hashes(resident):
    snap = snapshot(resident)
    assert snap["phone"].startswith(MASK) and snap["id_number"].startswith(MASK)
    assert resident.phone not in snap["phone"] and resident.id_number not in snap["id_number"]
    assert "phone_hash" not in snap and "id_number_hash" not in snap
    assert snap["username"] == "resident"
    empty = user_create(actor=None, username="nophone", password=None)
    assert snapshot(empty)["phone"] is None


def test_masked_value_is_the_display_form(resident):
    assert masked_value(resident, "phone") == "139****5678"
    assert masked_value(resident, "id_number") == ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]


def test_a_domain_rule_decides_instead_of_the_permission_when_the_caller_gives_one(resident, officer, clerk):
    """The case engine decides who may see a party's values from the case type's declaration and
    says so with ``permitted``: False refuses even a permission holder, True lets a user without it
    through — the purpose and the audit row stay, and an anonymous visitor is never let through."""
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        sensitive_value_reveal(user=officer, instance=resident, field_name="phone", purpose="回访核实诉求",
                               permitted=False)
    with pytest.raises(PermissionDenied):
        sensitive_value_reveal(user=AnonymousUser(), instance=resident, field_name="phone",
                               purpose="回访核实诉求", permitted=True)
    with pytest.raises(ValidationError):
        sensitive_value_reveal(user=clerk, instance=resident, field_name="phone", purpose="", permitted=True)
    assert not AuditEntry.objects.filter(action="privacy.reveal").exists()
    assert sensitive_value_reveal(user=clerk, instance=resident, field_name="phone", purpose="回访核实诉求",
                                  permitted=True) == PHONE
    assert AuditEntry.objects.filter(action="privacy.reveal", actor_id=clerk.pk).count() == 1
