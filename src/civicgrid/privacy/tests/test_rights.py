"""A person's rights: their records found by phone or identity number, exported for them, corrected,
erased where the basis is consent or the retention period has ended — all audited, by an officer only."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import Case, Party
from civicgrid.org.models import User
from civicgrid.org.services import user_create, user_update
from civicgrid.privacy.rights import person_correct, person_erase, person_export, person_find
from civicgrid.web.tests.conftest import reported, walk

pytestmark = pytest.mark.django_db
PHONE = "13800138000"


@pytest.fixture
def person(world, units):
    closed = walk(reported(phone=PHONE), world, units, "closed")
    still_open = reported(phone=PHONE)
    other = reported(phone="13900139000")
    account = user_create(actor=None, username="zhang", password=None, display_name="Zhang")
    user_update(actor=None, user=account, phone=PHONE)
    return {"closed": closed, "open": still_open, "other": other, "account": account,
            "officer": User.objects.get(pk=world.admin_a.pk)}


def test_the_export_for_a_person_holds_their_records_and_is_audited(person, world):
    records = person_find(actor=person["officer"], kind="phone", value="138 0013 8000")
    assert {k: sorted(o.pk for o in v) for k, v in records.found.items()} == {
        "cases.Case": sorted([person["closed"].pk, person["open"].pk]), "org.User": [person["account"].pk],
        "cases.Party": sorted(Party.objects.filter(case__in=[person["closed"], person["open"]]).values_list("pk",
                                                                                                         flat=True))}
    assert AuditEntry.objects.filter(action="privacy.search", actor=person["officer"]).count() >= 2
    data, mark = person_export(actor=person["officer"], records=records)
    assert {c["reporter_phone"] for c in data["records"]["cases.Case"]} == {PHONE}
    assert data["records"]["org.User"][0]["username"] == "zhang" and "Admin A (admin_a)" in data["watermark"]
    row = AuditEntry.objects.get(action="privacy.rights.export")
    assert row.extra["records"] == 5 and PHONE not in json.dumps(row.extra)  # 2 cases, their 2 parties, 1 account
    assert AuditEntry.objects.filter(action="privacy.export", pk=mark.audit_id, extra__personal=True).exists()


def test_only_an_officer_may_and_bad_input_names_the_field(person, world):
    with pytest.raises(PermissionDenied):
        person_find(actor=world.alice, kind="phone", value=PHONE)
    with pytest.raises(ValidationError) as exc:
        person_find(actor=person["officer"], kind="email", value=PHONE)
    assert "kind" in exc.value.message_dict
    records = person_find(actor=person["officer"], kind="phone", value=PHONE)
    with pytest.raises(ValidationError) as exc:
        person_correct(actor=person["officer"], instance=person["account"], field="phone", value="12", reason="asked")
    assert "phone" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        person_erase(actor=person["officer"], records=records, basis="whim")
    assert "basis" in exc.value.message_dict


def test_a_correction_changes_the_value_and_its_search_hash(person):
    officer = person["officer"]
    person_correct(actor=officer, instance=person["account"], field="phone", value="13700137000",
                   reason="the person moved to a new number")
    assert person_find(actor=officer, kind="phone", value="13700137000").found["org.User"][0].pk == person["account"].pk
    row = AuditEntry.objects.get(action="privacy.rights.correct")
    assert row.extra["field"] == "phone" and "13700137000" not in json.dumps(row.extra)


def test_erasure_on_retention_takes_only_what_is_past_its_period(person):
    officer = person["officer"]
    Case.objects.filter(pk=person["closed"].pk).update(closed_at=timezone.now() - dt.timedelta(days=4 * 365))
    records = person_find(actor=officer, kind="phone", value=PHONE)
    assert person_erase(actor=officer, records=records, basis="retention") == {"cases.Case": 1, "cases.Party": 1}
    assert Party.objects.get(case=person["closed"]).phone == ""  # the reporter as a party: past its period too
    assert Party.objects.get(case=person["open"]).phone == PHONE
    assert Case.objects.get(pk=person["closed"].pk).reporter_phone == ""
    assert Case.objects.get(pk=person["open"].pk).reporter_phone == PHONE  # still being handled
    assert User.objects.get(pk=person["account"].pk).phone == PHONE  # an active account is kept


def test_erasure_on_consent_clears_every_record_of_the_person(person):
    officer = person["officer"]
    records = person_find(actor=officer, kind="phone", value=PHONE)
    with pytest.raises(ValidationError):
        person_erase(actor=officer, records=records, basis="consent")
    done = person_erase(actor=officer, records=records, basis="consent", note="withdrawal letter 2026-12-07")
    assert done == {"cases.Case": 2, "cases.Party": 2, "org.User": 1}
    assert person_find(actor=officer, kind="phone", value=PHONE).count == 0
    assert Case.objects.get(pk=person["other"].pk).reporter_phone == "13900139000"
    row = AuditEntry.objects.get(action="privacy.rights.erase")
    assert row.extra["basis"] == "consent" and PHONE not in json.dumps(row.extra)


def test_the_command_exports_for_a_person(person, tmp_path):
    out, target = io.StringIO(), tmp_path / "person.json"
    call_command("privacy_person", "--phone", PHONE, "--as", "admin_a", "--export", str(target), stdout=out)
    assert "5 records found" in out.getvalue()
    assert json.loads(target.read_text(encoding="utf-8"))["records"]["cases.Case"][0]["reporter_phone"] == PHONE
    with pytest.raises(CommandError, match="export_personal"):
        call_command("privacy_person", "--phone", PHONE, "--as", "alice", stdout=out)


def test_the_admin_action_exports_one_persons_records(person, world):
    from django.test import Client

    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant

    membership_grant(actor=None, user=person["account"], role=Role.RESIDENT, region=world.city.a)
    c = Client()
    c.force_login(person["officer"])
    url = "/admin/org/user/"
    assert c.get(url).status_code == 200
    response = c.post(url, {"action": "export_person_records", "_selected_action": [person["account"].pk]})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert {c["reporter_phone"] for c in data["records"]["cases.Case"]} == {PHONE}
    assert AuditEntry.objects.filter(action="privacy.rights.export", actor=person["officer"]).count() == 1
    alice = Client()
    alice.force_login(world.alice)  # no org.export_personal: no such action for her
    assert alice.post(url, {"action": "export_person_records", "_selected_action": [person["account"].pk]}
                      ).status_code in (302, 403)
    assert AuditEntry.objects.filter(action="privacy.rights.export").count() == 1
