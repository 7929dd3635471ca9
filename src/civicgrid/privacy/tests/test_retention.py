"""Retention: the purge clears personal values whose period has ended, in the records themselves,
audited without any value, and idempotent; the audit trail and timelines hold no personal values."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import Case, Party, TimelineEntry
from civicgrid.core.testing import REPO
from civicgrid.org.models import User
from civicgrid.org.services import user_create, user_update
from civicgrid.privacy.retention import retention_kind, retention_kinds, retention_purge
from civicgrid.web.tests.conftest import reported, walk

pytestmark = pytest.mark.django_db

PHONE, ID_NUMBER, NAME = "13800138000", "11010519491231002X", "张三"
PERSONAL = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)\d{17}[\dXx](?!\d)")


def _ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


@pytest.fixture
def records(world, units):
    old, recent = walk(reported(phone=PHONE), world, units, "closed"), walk(reported(phone="13900139000"), world,
                                                                              units, "closed")
    still_open = reported(phone="13700137000")
    Case.objects.filter(pk=old.pk).update(closed_at=_ago(4 * 365))
    gone = user_create(actor=None, username="gone", password=None, display_name="Gone Person")
    user_update(actor=None, user=gone, phone="13600136000", id_number=ID_NUMBER)
    User.objects.filter(pk=gone.pk).update(is_active=False, last_login=_ago(3 * 365))
    here = user_create(actor=None, username="here", password=None, display_name="Still Here")
    user_update(actor=None, user=here, phone="13500135000")
    User.objects.filter(pk=here.pk).update(last_login=_ago(3 * 365))  # active: kept whatever its age
    return {"old": old, "recent": recent, "open": still_open, "gone": gone, "here": here}


def test_the_registered_kinds_have_documented_defaults():
    names = {k.name: k.days for k in retention_kinds()}
    assert names == {"cases.reporter": 1095, "cases.party": 1095, "org.user.inactive": 730, "notify.address": 180}
    doc = (REPO / "docs" / "privacy-impact-assessment.md").open(encoding="utf-8").read()
    for name, days in names.items():
        assert f"`{name}`" in doc and f"{days} days" in doc


def test_the_purge_clears_what_is_due_audits_it_without_values_and_runs_again_as_a_no_op(records, settings):
    before = AuditEntry.objects.count()
    due = {"cases.reporter": 1, "cases.party": 1, "notify.address": 0, "org.user.inactive": 1}
    assert retention_purge(dry_run=True) == due
    assert AuditEntry.objects.count() == before  # a dry run changes and writes nothing
    assert Case.objects.get(pk=records["old"].pk).reporter_phone == PHONE

    assert retention_purge() == due
    old = Case.objects.get(pk=records["old"].pk)
    assert (old.reporter_name, old.reporter_phone, old.reporter_phone_hash) == ("", "", "")
    assert Case.objects.get(pk=records["recent"].pk).reporter_phone == "13900139000"
    assert Case.objects.get(pk=records["open"].pk).reporter_phone == "13700137000"
    gone = User.objects.get(pk=records["gone"].pk)
    assert (gone.phone, gone.id_number, gone.phone_hash, gone.display_name) == ("", "", "", "")
    assert gone.username == "gone"  # the account stays: the trail names it
    assert User.objects.get(pk=records["here"].pk).phone == "13500135000"

    party = Party.objects.get(case=old, kind="reporter")  # the reporter as a party: cleared the same way
    assert (party.name, party.phone, party.phone_hash, party.name_hash) == ("", "", "", "")
    assert Party.objects.get(case=records["recent"], kind="reporter").phone == "13900139000"

    rows = AuditEntry.objects.filter(action="privacy.purge")
    assert {(r.target_type, tuple(r.extra["ids"])) for r in rows} == {
        ("cases.case", (str(old.pk),)), ("cases.party", (str(party.pk),)), ("org.user", (str(gone.pk),))}
    assert AuditEntry.objects.count() == before + 3  # the earlier rows are all kept
    text = json.dumps([[r.target_repr, r.extra] for r in rows], ensure_ascii=False)
    assert not PERSONAL.search(text) and NAME not in text

    assert retention_purge() == {"cases.reporter": 0, "cases.party": 0, "notify.address": 0, "org.user.inactive": 0}
    assert AuditEntry.objects.count() == before + 3


def test_the_period_is_configurable_per_kind(records, settings):
    settings.CIVICGRID_RETENTION_DAYS = {"cases.reporter": 5 * 365}
    assert retention_kind("cases.reporter").period_days == 5 * 365
    assert retention_purge(dry_run=True, kinds=["cases.reporter"]) == {"cases.reporter": 0}


def test_the_command_counts_then_purges(records):
    out = io.StringIO()
    call_command("privacy_purge", "--dry-run", stdout=out)
    assert "cases.reporter (after 1095 days): 1 records due" in out.getvalue()
    assert Case.objects.get(pk=records["old"].pk).reporter_phone == PHONE
    call_command("privacy_purge", stdout=out)
    assert Case.objects.get(pk=records["old"].pk).reporter_phone == ""
    with pytest.raises(Exception, match="unknown kind"):
        call_command("privacy_purge", "--kind", "nonsense")


def test_no_audit_row_or_timeline_entry_holds_a_plain_phone_identity_number_or_name(records, world, units):
    walk(records["recent"], world, units, "replied")
    assert AuditEntry.objects.count() > 10 and TimelineEntry.objects.count() > 5
    for row in AuditEntry.objects.all():
        text = json.dumps([row.target_repr, row.before, row.after, row.extra], ensure_ascii=False)
        assert not PERSONAL.search(text), (row.action, text)
        assert NAME not in text, row.action
    for entry in TimelineEntry.objects.all():
        text = json.dumps([entry.note, entry.data], ensure_ascii=False)
        assert not PERSONAL.search(text) and NAME not in text, (entry.action, text)
