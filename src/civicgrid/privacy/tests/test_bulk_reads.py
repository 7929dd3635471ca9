"""Bulk reads over the threshold raise one alert to the auditors; personal exports need the permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied

from civicgrid.audit.models import AuditEntry
from civicgrid.notify.models import Notification
from civicgrid.org.models import Role, User
from civicgrid.org.services import membership_grant, user_create, user_update
from civicgrid.privacy.exports import export_record
from civicgrid.privacy.services import sensitive_search, sensitive_value_reveal

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(cast):
    ada = user_create(actor=None, username="ada", password=None, display_name="Ada")
    membership_grant(actor=None, user=ada, role=Role.AUDITOR, region=cast.city.a)
    return ada


def _revealer(cast):
    cast.alice.user_permissions.add(Permission.objects.get(codename="reveal_user"))
    return User.objects.get(pk=cast.alice.pk)


def test_reads_over_the_threshold_raise_one_alert_to_the_auditors(cast, auditor, settings):
    settings.CIVICGRID_BULK_READ_THRESHOLD = 3
    alice = _revealer(cast)
    user_update(actor=None, user=cast.bob, phone="13800138000")
    for _ in range(3):
        sensitive_value_reveal(user=alice, instance=cast.bob, field_name="phone", purpose="call back about a case")
    assert not AuditEntry.objects.filter(action="privacy.alert.bulk_read").exists()
    sensitive_search(user=alice, queryset=User.objects.all(), value="13800138000", fields=["phone"])
    alert = AuditEntry.objects.get(action="privacy.alert.bulk_read")
    assert alert.target_id == str(alice.pk) and alert.extra["records"] == 4 and alert.extra["threshold"] == 3
    assert "13800138000" not in str(alert.extra) and "13800138000" not in alert.target_repr
    notes = Notification.objects.filter(event="privacy.alert.bulk_read")
    assert [n.recipient_id for n in notes] == [auditor.pk] and "alice" in notes[0].subject
    # once per window: more reads add no second alert
    sensitive_value_reveal(user=alice, instance=cast.bob, field_name="phone", purpose="call back about a case")
    assert AuditEntry.objects.filter(action="privacy.alert.bulk_read").count() == 1
    # the other people's reads are counted apart
    assert not AuditEntry.objects.filter(action="privacy.alert.bulk_read", target_id=str(cast.charlie.pk)).exists()


def test_a_personal_export_needs_the_permission_and_counts_as_a_bulk_read(cast, auditor, settings):
    settings.CIVICGRID_BULK_READ_THRESHOLD = 10
    with pytest.raises(PermissionDenied):
        export_record(user=cast.alice, kind="people", rows=50, fmt="csv", personal=True)
    assert not AuditEntry.objects.filter(action="privacy.export").exists()
    admin = User.objects.get(pk=cast.admin_a.pk)  # an administrator's role brings org.export_personal
    mark = export_record(user=admin, kind="people", rows=50, fmt="csv", personal=True)
    assert "Admin A (admin_a)" in mark.text
    assert AuditEntry.objects.filter(action="privacy.alert.bulk_read", target_id=str(admin.pk)).count() == 1
