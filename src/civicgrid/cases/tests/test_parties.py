"""Parties of a case (当事人): encrypted at rest, found only by the exact keyed hash (name too),
masked on screen, revealed only to the roles the case type declares, with a purpose and one audit
row; the reporter of a case is written as a party by intake, in the case's one statement on
PostgreSQL. DRILL declares every kind but a petitioner, and reveals an identity number to a
dispatcher only."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from civicgrid.audit.models import AuditEntry
from civicgrid.cases import rules
from civicgrid.cases.errors import TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import Party, TimelineEntry
from civicgrid.cases.registry import PartyRules
from civicgrid.cases.selectors import party_get
from civicgrid.cases.services import parties_search, party_add, party_reveal, party_update
from civicgrid.cases.tests.conftest import drill_create, fresh
from civicgrid.privacy.validators import id_check_char

pytestmark = pytest.mark.django_db

NAME, PHONE = "王秀英", "13800138000"
ID17 = "44030319851231002"
ID_NUMBER = ID17 + id_check_char(ID17)
PLAIN = (NAME, PHONE, ID_NUMBER, "桂花路1号", PHONE[3:], ID_NUMBER[6:14])


def _raw_rows(table: str = "cases_party") -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {table}")
        return json.dumps(cur.fetchall(), default=str, ensure_ascii=False)


def _dispatch_to(case, dispatcher, department):
    return rules.case_act(actor=dispatcher, case=fresh(case), action="dispatch",
                          data={"department": department.code})


@pytest.fixture
def case(cast, units):
    return drill_create(cast.alice, reporter_name="李先生", reporter_phone="13900139000")


@pytest.fixture
def applicant(case, cast):
    return party_add(actor=cast.alice, case=case, kind="applicant", name=NAME, id_number=ID_NUMBER.lower(),
                     phone="138-0013-8000", address="桂花路1号")


# --- intake: the reporter is a party --------------------------------------------------------------


def test_intake_writes_the_reporter_as_a_party_with_the_case(case):
    [reporter] = Party.objects.filter(case=case)
    assert (reporter.kind, reporter.name, reporter.phone) == ("reporter", "李先生", "13900139000")
    assert reporter.name_hash and reporter.phone_hash and not reporter.id_number_hash
    raw = _raw_rows()
    assert "李先生" not in raw and "13900139000" not in raw and "39000" not in raw


def test_an_anonymous_report_or_one_without_name_or_phone_has_no_party(cast, units):
    anonymous = drill_create(cast.alice, reporter_name="张三", reporter_phone=PHONE, anonymous=True)
    unnamed = drill_create(cast.alice)
    assert not Party.objects.filter(case__in=[anonymous, unnamed]).exists()


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_reporter_goes_out_in_the_cases_one_statement(cast, units):
    drill_create(cast.alice, title="warm-up", reporter_name="甲", reporter_phone="13900139001")  # caches read
    with CaptureQueriesContext(connection) as ctx:
        case = drill_create(cast.alice, reporter_name="李先生", reporter_phone="13900139000")
    writes = [q["sql"] for q in ctx.captured_queries if "INSERT" in q["sql"].upper()]
    party_writes = [sql for sql in writes if '"cases_party"' in sql]
    assert len(party_writes) == 1 and Party.objects.filter(case=case, kind="reporter").count() == 1
    if connection.vendor == "postgresql":
        # one statement: the case, its reporter, timeline, clock and audit row (WITH r AS (INSERT …))
        assert writes == party_writes and '"cases_case"' in writes[0] and '"cases_timeline' in writes[0]
        assert not any(q["sql"].upper().startswith(("BEGIN", "SAVEPOINT")) for q in ctx.captured_queries)


# --- adding and correcting ------------------------------------------------------------------------


def test_a_dispatcher_adds_a_party_encrypted_at_rest_and_nothing_personal_is_logged(case, applicant, cast):
    assert applicant.kind == "applicant" and applicant.id_number == ID_NUMBER and applicant.phone == PHONE
    raw = _raw_rows()
    for plain in PLAIN:
        assert plain not in raw, plain
    entry = TimelineEntry.objects.get(case=case, action="party_add")
    assert entry.data == {"party": applicant.pk, "kind": "applicant"}
    audit = AuditEntry.objects.get(action="cases.drill.party_add")
    logged = json.dumps([entry.data, entry.note, audit.after, audit.extra, audit.target_repr], ensure_ascii=False)
    for plain in PLAIN:
        assert plain not in logged, plain


def test_adding_a_party_is_refused_to_a_wrong_role_an_outsider_and_a_kind_the_type_does_not_use(case, cast, units):
    with pytest.raises(TransitionRefused):
        party_add(actor=cast.bob, case=case, kind="applicant", name=NAME)  # a grid worker
    with pytest.raises(Http404):
        party_add(actor=units.rita, case=case, kind="applicant", name=NAME)  # a resident: not her report
    with pytest.raises(Http404):
        party_add(actor=cast.charlie, case=case, kind="applicant", name=NAME)  # another street's dispatcher
    with pytest.raises(TransitionNotAllowed) as info:
        party_add(actor=cast.alice, case=case, kind="petitioner", name=NAME)
    assert "kind" in info.value.message_dict
    with pytest.raises(TransitionNotAllowed) as info:
        party_add(actor=cast.alice, case=case, kind="respondent", phone="12", id_number="123")
    assert set(info.value.message_dict) == {"phone", "id_number"}
    with pytest.raises(TransitionNotAllowed) as info:
        party_add(actor=cast.alice, case=case, kind="respondent")
    assert "name" in info.value.message_dict
    assert Party.objects.filter(case=case).count() == 1  # the reporter only


def test_correcting_the_reporter_corrects_the_cases_reporter_too(case, cast):
    reporter = party_get(user=cast.alice, case_id=case.pk, party_id=Party.objects.get(case=case).pk)
    party_update(actor=cast.alice, party=reporter, phone="139 0013 9999")
    stored = fresh(case)
    assert stored.reporter_phone == "13900139999" and Party.objects.get(pk=reporter.pk).phone == "13900139999"
    assert [p.case_id for p in parties_search(actor=cast.alice, value="13900139999", fields=["phone"])] == [case.pk]
    entry = TimelineEntry.objects.get(case=case, action="party_edit")
    assert entry.data["fields"] == ["phone"] and "13900139999" not in json.dumps(entry.data)
    with pytest.raises(TransitionRefused):
        party_update(actor=cast.bob, party=reporter, phone=PHONE)


# --- masking, search ------------------------------------------------------------------------------


def test_parties_are_shown_masked_with_what_each_person_may_reveal(case, applicant, cast, units):
    view = rules.case_parties(cast.alice, fresh(case))
    shown = {p.kind: p for p in view.parties}
    a = shown["applicant"]
    assert (a.name, a.phone, a.id_number) == ("王**", "138****8000", "440303********" + ID_NUMBER[-4:])
    assert a.revealable == ("name", "id_number", "phone") and view.can_edit
    assert ("petitioner", "petitioner") not in view.kinds and ("applicant", "applicant") in view.kinds
    assert rules.case_parties(cast.bob, fresh(case)).parties[0].revealable == ()
    assert not rules.case_parties(cast.bob, fresh(case)).can_edit


def test_the_keyed_hash_finds_exact_values_only_and_only_in_cases_i_may_see(case, applicant, cast):
    assert [p.pk for p in parties_search(actor=cast.alice, value=NAME)] == [applicant.pk]
    assert parties_search(actor=cast.alice, value="王秀") == []  # exact, not a prefix
    assert [p.pk for p in parties_search(actor=cast.alice, value="+86 138 0013 8000", fields=["phone"])] == [
        applicant.pk]
    assert [p.pk for p in parties_search(actor=cast.alice, value=ID_NUMBER.lower(), fields=["id_number"])] == [
        applicant.pk]
    assert [p.kind for p in parties_search(actor=cast.alice, value="李先生", fields=["name"])] == ["reporter"]
    assert parties_search(actor=cast.charlie, value=NAME) == []  # another street's cases


def test_every_search_is_audited_without_the_plain_value(case, applicant, cast):
    parties_search(actor=cast.charlie, value=PHONE, fields=["phone"])
    parties_search(actor=cast.alice, value=PHONE, fields=["phone"])
    rows = list(AuditEntry.objects.filter(action="privacy.search").order_by("id"))
    assert [(r.actor_id, r.extra["matches"]) for r in rows] == [(cast.charlie.pk, 0), (cast.alice.pk, 1)]
    assert rows[0].target_type == "cases.party" and rows[0].extra["value"] == "138****8000"
    assert PHONE not in json.dumps([r.extra for r in rows])


def test_a_search_needs_a_value_and_a_searchable_field(cast, units):
    with pytest.raises(TransitionNotAllowed) as info:
        parties_search(actor=cast.alice, value=" ")
    assert "value" in info.value.message_dict
    with pytest.raises(TransitionNotAllowed) as info:
        parties_search(actor=cast.alice, value=PHONE, fields=["address"])
    assert "field" in info.value.message_dict
    assert not AuditEntry.objects.filter(action="privacy.search").exists()


# --- the reveal -----------------------------------------------------------------------------------


def test_a_dispatcher_reveals_with_a_purpose_and_one_audit_row(case, applicant, cast):
    party = party_get(user=cast.alice, case_id=case.pk, party_id=applicant.pk)
    assert party_reveal(actor=cast.alice, party=party, field_name="id_number", purpose="核实申请人身份") == ID_NUMBER
    [row] = AuditEntry.objects.filter(action="privacy.reveal")
    assert (row.actor_id, row.target_type, row.target_id) == (cast.alice.pk, "cases.party", str(applicant.pk))
    assert row.extra == {"field": "id_number", "purpose": "核实申请人身份"}
    assert ID_NUMBER not in json.dumps([row.before, row.after, row.extra, row.target_repr])


def test_a_reveal_without_a_purpose_is_refused_naming_it_and_not_audited(case, applicant, cast):
    party = party_get(user=cast.alice, case_id=case.pk, party_id=applicant.pk)
    with pytest.raises(ValidationError) as info:
        party_reveal(actor=cast.alice, party=party, field_name="phone", purpose=" ")
    assert "purpose" in info.value.message_dict
    with pytest.raises(TransitionNotAllowed) as info:
        party_reveal(actor=cast.alice, party=party, field_name="name_hash", purpose="回访核实")
    assert "field" in info.value.message_dict
    assert not AuditEntry.objects.filter(action="privacy.reveal").exists()


def test_the_handling_department_reveals_what_the_type_declares_for_it_and_nothing_else(case, applicant, cast,
                                                                                        units):
    with pytest.raises(Http404):  # before the dispatch Dana's department does not see the case
        party_get(user=units.dana, case_id=case.pk, party_id=applicant.pk)
    _dispatch_to(case, cast.alice, units.urban)
    party = party_get(user=units.dana, case_id=case.pk, party_id=applicant.pk)
    assert party_reveal(actor=units.dana, party=party, field_name="phone", purpose="回电核实情况") == PHONE
    with pytest.raises(TransitionRefused):  # an identity number: a dispatcher's only
        party_reveal(actor=units.dana, party=party, field_name="id_number", purpose="回电核实情况")
    assert AuditEntry.objects.filter(action="privacy.reveal").count() == 1


def test_a_reveal_is_refused_to_a_wrong_role_and_an_outsider(case, applicant, cast, units):
    party = party_get(user=cast.bob, case_id=case.pk, party_id=applicant.pk)  # Bob sees his grid's case
    with pytest.raises(TransitionRefused):
        party_reveal(actor=cast.bob, party=party, field_name="phone", purpose="回电核实情况")
    with pytest.raises(Http404):
        party_get(user=cast.charlie, case_id=case.pk, party_id=applicant.pk)
    other = drill_create(cast.alice, title="another")
    with pytest.raises(Http404):  # a party fetched through another case
        party_get(user=cast.alice, case_id=other.pk, party_id=applicant.pk)
    assert not AuditEntry.objects.filter(action="privacy.reveal").exists()


def test_a_declaration_names_only_known_kinds_and_fields():
    with pytest.raises(ValueError):
        PartyRules(kinds=("landlord",))
    with pytest.raises(ValueError):
        PartyRules(reveal={"birthday": frozenset()})
    assert PartyRules(reveal={}).may_reveal("phone") == frozenset()


def test_the_data_migration_makes_earlier_reporters_parties_searchable_by_name(case, cast, units):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    Party.objects.all().delete()  # a case reported before parties existed
    older = drill_create(cast.alice, title="older", reporter_phone="13900139002")
    Party.objects.filter(case=older).delete()
    migration = importlib.import_module("civicgrid.cases.migrations.0014_parties")
    migration.reporters_to_parties(apps, SimpleNamespace(connection=connection))
    migration.reporters_to_parties(apps, SimpleNamespace(connection=connection))  # idempotent
    assert sorted(Party.objects.values_list("case_id", "kind")) == [(case.pk, "reporter"), (older.pk, "reporter")]
    assert [p.case_id for p in parties_search(actor=cast.alice, value="李先生", fields=["name"])] == [case.pk]
    assert [p.case_id for p in parties_search(actor=cast.alice, value="13900139002", fields=["phone"])] == [older.pk]
    assert "李先生" not in _raw_rows()
