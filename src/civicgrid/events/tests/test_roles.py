"""Every event transition, allowed and refused by role and by scope: the centre registers, rejects,
answers, dispatches and replies; departments accept, dispute and report back; the grid worker
verifies; a dispatcher of another district never reaches the event (404); the engine's generic
actions (merge, recall) work on events."""

from __future__ import annotations

import pytest

from civicgrid.cases.errors import TransitionRefused
from civicgrid.cases.services import case_merge, case_recall, case_transition
from civicgrid.events import services as ev
from civicgrid.events.photos import PhotoUpload
from civicgrid.events.tests.conftest import T0, at, fresh, jpeg, report
from civicgrid.org.scoping import OutOfScope

pytestmark = pytest.mark.django_db

PHOTO = [PhotoUpload("a.jpg", b"")]


def in_state(state, cast, units):
    """An event of Bob's grid brought to ``state`` by the right people."""
    case = report(units.rita).case
    steps = {
        "registered": lambda c: ev.event_register(actor=cast.alice, case=c, now=T0),
        "dispatched": lambda c: ev.event_dispatch(actor=cast.alice, case=c, now=T0),
        "handling": lambda c: ev.event_accept(actor=units.evan, case=c, now=T0),
        "verifying": lambda c: ev.event_report_back(actor=units.evan, case=c, note="已修复",
                                                    photos=[PhotoUpload("a.jpg", jpeg())], now=T0),
        "closed": lambda c: ev.event_verify(actor=cast.bob, case=c, passed=True, note="已核查", now=T0),
    }
    for name, step in steps.items():
        if fresh(case).state == state:
            break
        step(fresh(case))
        if name == state:
            break
    assert fresh(case).state == state
    return fresh(case)


# action, the state it needs, its input, who may, who may not (by role, in scope)
MATRIX = [
    ("register", "reported", {}, ["alice", "admin_a"], ["bob", "dana", "rita"]),
    ("reject", "reported", {"reason": "重复"}, ["alice"], ["bob", "rita"]),
    ("dispatch", "registered", {"department": "water"}, ["alice", "admin_a"], ["bob"]),
    ("accept", "dispatched", {}, ["evan", "admin_a"], ["alice", "bob"]),
    ("dispute", "dispatched", {"reason": "非本部门职责"}, ["evan"], ["alice", "bob"]),
    ("report_back", "handling", {"note": "已修复", "attachments": [{"path": "x.jpg"}]}, ["evan"],
     ["alice", "bob"]),
    ("verify", "verifying", {"note": "已核查"}, ["bob", "alice"], ["evan"]),
    ("verify_fail", "verifying", {"reason": "未整改"}, ["bob"], ["evan"]),
    ("reply", "closed", {"note": "已处理完毕"}, ["alice"], ["bob", "evan"]),
]


def _who(name, cast, units):
    return getattr(cast, name, None) or getattr(units, name)


def _input(inp, units):
    inp = dict(inp)
    if inp.get("department") == "water":
        inp["department"] = units.water
    return inp


@pytest.mark.parametrize("action,state,inp,allowed,refused", MATRIX, ids=[m[0] for m in MATRIX])
def test_each_transition_is_allowed_to_its_roles_and_refused_to_others(world, units, action, state, inp,
                                                                       allowed, refused):
    for name in refused:
        case = in_state(state, world, units)
        with pytest.raises((TransitionRefused, OutOfScope)):
            case_transition(actor=_who(name, world, units), case=case, action=action, now=at(2024, 9, 23, 12),
                            **_input(inp, units))
        assert fresh(case).state == state
    for name in allowed:
        case = in_state(state, world, units)
        case_transition(actor=_who(name, world, units), case=case, action=action, now=at(2024, 9, 23, 12),
                        **_input(inp, units))
        assert fresh(case).state != state or action in ("accept",)


@pytest.mark.parametrize("action,state,inp", [(m[0], m[1], m[2]) for m in MATRIX], ids=[m[0] for m in MATRIX])
def test_charlie_of_the_other_district_never_reaches_an_event_of_district_a(world, units, action, state, inp):
    case = in_state(state, world, units)
    with pytest.raises(OutOfScope):
        case_transition(actor=world.charlie, case=case, action=action, now=at(2024, 9, 23, 12), **_input(inp, units))


def test_a_report_back_needs_a_photo(world, units):
    case = in_state("handling", world, units)
    with pytest.raises(ev.TransitionNotAllowed) as info:
        ev.event_report_back(actor=units.evan, case=case, note="已修复", photos=[], now=T0)
    assert "photos" in info.value.message_dict  # the field the API body and the form name


def test_a_step_out_of_order_is_refused(world, units):
    case = in_state("reported", world, units)
    with pytest.raises(ev.TransitionNotAllowed):
        ev.event_verify(actor=world.bob, case=case, passed=True, note="x", now=T0)


def test_duplicates_are_merged_into_one_event_and_their_reporters_follow_it(world, units):
    first = in_state("registered", world, units)
    dup = report(world.bob, text="上水井盖不见了").case
    case_merge(actor=world.alice, survivor=first, duplicates=[fresh(dup)], note="同一井盖", now=T0)
    assert fresh(dup).state == "merged" and fresh(dup).merged_into_id == first.pk
    assert fresh(first).timeline.filter(action="absorb").exists()


def test_a_dispatch_nobody_accepted_is_recalled_to_registered(world, units):
    case = in_state("dispatched", world, units)
    case_recall(actor=world.alice, case=case, note="派错单位", now=T0)
    assert fresh(case).state == "registered" and fresh(case).lead_department is None
