"""Issue 13.13 through the case page: the extension form refuses amounts that are not finite,
positive and within the unit's maximum (the error next to the amount), and the person who asked
cannot approve their own request."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import ApprovalRequest
from civicgrid.web.tests.conftest import client_for, fresh, reported, walk

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", ["11", "1e308", "inf", "Infinity", "nan", "-2", "0"])
def test_the_extension_form_refuses_an_amount_outside_the_limit(world, units, amount):
    case = walk(reported(), world, units, "handling")  # rubbish bin: 2 working days
    due = case.handling_due_at
    answer = client_for(units.dana).post(f"/cases/{case.tracking_code}/act/request_extension/",
                                         {"kind": "extension", "amount": amount, "reason": "配件未到"})
    assert answer.status_code == 422
    assert list(answer.context["errors"]) == ["amount"]  # shown next to the amount field
    assert not ApprovalRequest.objects.filter(case=case).exists() and fresh(case).handling_due_at == due


def test_the_dispatcher_cannot_approve_her_own_extension_on_the_page(world, units):
    case = walk(reported(), world, units, "handling")
    due = case.handling_due_at
    alice = client_for(world.alice)
    assert alice.post(f"/cases/{case.tracking_code}/act/request_extension/",
                      {"kind": "extension", "amount": "3", "reason": "等材料"}).status_code == 302
    req = ApprovalRequest.objects.get(case=case)
    # not offered to her (nobody decides their own request); posted anyway, the form refuses the choice
    assert alice.post(f"/cases/{case.tracking_code}/act/decide_extension/",
                      {"request": req.pk, "decision": "approve"}).status_code in (403, 422)
    assert ApprovalRequest.objects.get(pk=req.pk).state == "pending" and fresh(case).handling_due_at == due
    assert client_for(world.admin_a).post(f"/cases/{case.tracking_code}/act/decide_extension/",
                                          {"request": req.pk, "decision": "approve"}).status_code == 302
    assert fresh(case).handling_due_at > due
