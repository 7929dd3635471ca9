"""The organisation admin saves through the services (audited); flags and reports are read only."""

from __future__ import annotations

from civicgrid.audit.models import AuditEntry
from civicgrid.disputes.models import MediationOrganisation


def test_the_admin_creates_and_changes_an_organisation_through_the_services(client, mediation):
    from civicgrid.org.services import user_create

    root = user_create(actor=None, username="root", password="Correct-Horse-42", is_superuser=True, is_staff=True)
    client.force_login(root)
    street = mediation.cast.city.get("440301002")
    r = client.post("/admin/disputes/mediationorganisation/add/", {
        "code": "M-S2", "name": "第二街道人民调解委员会", "kind": "peoples_street", "region": street.pk,
        "dispute_types": "[]", "is_active": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    org = MediationOrganisation.objects.get(code="M-S2")
    assert org.level == "street" and AuditEntry.objects.filter(action="disputes.organisation_create").exists()
    r = client.post(f"/admin/disputes/mediationorganisation/{org.pk}/change/", {
        "name": "第二街道调委会", "kind": "peoples_street", "dispute_types": '["labour"]'})
    assert r.status_code == 302, r.content.decode()[:2000]
    org.refresh_from_db()
    assert org.name == "第二街道调委会" and org.dispute_types == ["labour"] and not org.is_active
    assert AuditEntry.objects.filter(action="disputes.organisation_update").exists()
    assert client.get("/admin/disputes/riskflag/add/").status_code == 403
