"""Issue 16: a restricted type's case is never public — Open311 neither lists it nor answers its code,
and the publication rule itself refuses it whatever the rule says."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import Case
from civicgrid.cases.tests.restricted import sealed_fixture  # noqa: F401 - the fixture
from civicgrid.events.selectors import open311_public_q

pytestmark = pytest.mark.django_db


def test_open311_never_publishes_a_restricted_case(client, sealed):
    code = sealed.accusation.tracking_code
    answer = client.get(f"/open311/v2/requests/{code}.json")
    assert answer.status_code == 404 and "举报" not in answer.content.decode()
    listed = client.get("/open311/v2/requests.json")
    assert code not in listed.content.decode() and "举报" not in listed.content.decode()
    # the publication rule refuses it on its own (a case type's restriction beats any rule)
    assert not Case.objects.filter(open311_public_q(), pk=sealed.accusation.pk).exists()
    assert "audience" in str(open311_public_q())
