"""The routing default (the community's committee, then the street's, then the district's; then the
other organisations serving the place and type) and intake refusals."""

from __future__ import annotations

import pytest

from civicgrid.cases.errors import TransitionNotAllowed
from civicgrid.disputes.selectors import organisations_for
from civicgrid.disputes.services import organisation_create
from civicgrid.disputes.tests.conftest import POINT_B, register


def codes(case, dispute_type=None):
    return [o.code for o in organisations_for(case, dispute_type)]


def test_the_default_order_is_community_street_district(mediation):
    case = register(mediation.cast.bob)
    assert codes(case) == ["M-C", "M-S", "M-D"]
    # a medical dispute: the medical committee serves its type, after the people's committees
    assert codes(case, "medical") == ["M-C", "M-S", "M-D", "M-MED"]


def test_without_a_community_committee_the_street_comes_first(mediation):
    from civicgrid.disputes.models import MediationOrganisation

    MediationOrganisation.objects.filter(code="M-C").update(is_active=False)
    assert codes(register(mediation.cast.bob)) == ["M-S", "M-D"]


def test_served_regions_and_types_decide(mediation):
    city = mediation.cast.city
    # a district-B committee that also serves district A's street, only for labour disputes
    organisation_create(actor=None, code="M-LAB", name="劳资纠纷调委会", kind="professional",
                        region=city.get("440302"), served_regions=[city.get("440301001")], dispute_types=["labour"])
    case = register(mediation.cast.bob)
    assert "M-LAB" not in codes(case) and codes(case, "labour")[-1] == "M-LAB"
    assert "M-B" not in codes(case)


def test_a_dispute_in_district_b_gets_district_bs_committee(mediation):
    case = register(None, point=POINT_B)
    assert codes(case) == ["M-B"]


def test_intake_refuses_a_place_outside_the_jurisdiction_and_bad_fields(mediation):
    with pytest.raises(TransitionNotAllowed) as exc:
        register(mediation.cast.bob, point=POINT_B)
    assert list(exc.value.message_dict) == ["location"]
    with pytest.raises(TransitionNotAllowed) as exc:
        register(mediation.cast.bob, dispute_type="gossip", source="rumour")
    assert set(exc.value.message_dict) == {"dispute_type", "source"}
    with pytest.raises(TransitionNotAllowed) as exc:
        register(mediation.cast.bob, people_involved=0)
    assert list(exc.value.message_dict) == ["people_involved"]


def test_the_dispute_types_are_a_setting(mediation, settings):
    settings.CIVICGRID_DISPUTE_TYPES = [("village", "村务")]
    assert register(mediation.cast.bob, dispute_type="village").case_type == "dispute"
    with pytest.raises(TransitionNotAllowed):
        register(mediation.cast.bob, dispute_type="neighbour")
