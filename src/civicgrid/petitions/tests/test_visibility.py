"""Accusations (检举控告): seen only by the petition office and the handlers assigned; never routed to
the unit or person they accuse; invisible to the region's dispatcher, the auditor and the accused
unit. Claims and suggestions are seen by their jurisdiction."""

from __future__ import annotations

import pytest

from civicgrid.cases.errors import TransitionNotAllowed, TransitionRefused
from civicgrid.cases.selectors import case_get, cases_visible
from civicgrid.org.scoping import OutOfScope
from civicgrid.petitions.tests.conftest import MON, act, fresh, receive

pytestmark = pytest.mark.django_db


def _sees(user, case) -> bool:
    return cases_visible(user=user).filter(pk=case.pk).exists()


def _accusation(po, **kw):
    return receive(po, kind="accusation", title="举报某局违规收费", matter="违规收费", text="某局违规收费三次",
                   accused_department=po.units.water, **kw)


def test_an_accusation_is_seen_by_the_office_and_the_unit_it_is_routed_to_only(po):
    u, c = po.units, po.cast
    case = _accusation(po)
    assert case.audience != ""
    assert _sees(po.olga, case)
    for outsider in (c.alice, po.audrey, u.evan, u.dana, c.charlie, po.leo, po.cora):
        assert not _sees(outsider, case), outsider.username
        with pytest.raises(OutOfScope):
            case_get(user=outsider, pk=case.pk)
    act(po.olga, case, "route", MON, unit=u.urban.code)
    assert _sees(u.dana, case)
    for outsider in (c.alice, po.audrey, u.evan):  # the dispatcher, the auditor, the accused unit
        assert not _sees(outsider, case), outsider.username
    # the text is kept sealed, read back for those who see it
    assert fresh(case).description == "某局违规收费三次" and fresh(case).text == ""


def test_an_accusation_is_never_routed_to_the_unit_it_accuses(po):
    u = po.units
    case = _accusation(po)
    with pytest.raises(TransitionNotAllowed) as e:
        act(po.olga, case, "route", MON, unit=u.water.code)
    assert "unit" in e.value.message_dict
    assert fresh(case).state == "registered" and not fresh(case).assignments.filter(department=u.water).exists()
    assert not _sees(u.evan, case)


def test_nor_to_the_unit_where_the_accused_person_works(po):
    u = po.units
    case = _accusation(po, accused_person=u.dana)
    with pytest.raises(TransitionNotAllowed) as e:
        act(po.olga, case, "route", MON, unit=u.urban.code)
    assert "unit" in e.value.message_dict


def test_a_claim_is_seen_by_its_jurisdiction(po):
    case = receive(po)
    assert case.audience == ""
    assert _sees(po.cast.alice, case) and _sees(po.audrey, case)
    assert not _sees(po.cast.charlie, case)  # another district


def test_wrong_role_outsider_and_out_of_scope_targets_are_refused(po):
    u, c = po.units, po.cast
    case = receive(po)
    with pytest.raises(TransitionRefused):  # the street's dispatcher sees it but may not route
        act(c.alice, case, "route", MON, unit=u.urban.code)
    with pytest.raises(OutOfScope):  # another district's dispatcher does not see it at all
        act(c.charlie, case, "route", MON, unit=u.urban.code)
    with pytest.raises(TransitionNotAllowed) as e:  # a unit outside the office's reach
        act(po.olga, case, "route", MON, unit="440300-xf")
    assert "unit" in e.value.message_dict
    act(po.olga, case, "route", MON, unit=u.urban.code)
    with pytest.raises(TransitionNotAllowed):  # a unit not holding it may not accept (guard)
        act(po.olga, case, "accept", MON)
    with pytest.raises(TransitionRefused):  # the leader has no role in acceptance
        act(po.leo, case, "accept", MON)
