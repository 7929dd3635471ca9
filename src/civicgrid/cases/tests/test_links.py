"""Links between cases (案件关联): typed and two-way, on both timelines, made in the transaction of
the action that makes them (a drill handed over to a relay case: ``Transition.opens``), kept
through merges, searchable, and never showing a linked case to someone who may not see it."""

from __future__ import annotations

import pytest
from django.http import Http404

from civicgrid.audit.models import AuditEntry
from civicgrid.cases import registry
from civicgrid.cases.errors import CaseConflict, TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import Case, CaseLink
from civicgrid.cases.registry import CaseType, Input, Opens, Transition
from civicgrid.cases.rules import case_act, case_actions
from civicgrid.cases.selectors import case_links, cases_linked_with
from civicgrid.cases.services import case_link, case_merge
from civicgrid.cases.testing import CENTRE
from civicgrid.cases.tests.conftest import POINT_B, at, drill_create, fresh

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    """Pages and API answers in English (the msgids these tests read), whatever the site's language."""
    settings.LANGUAGE_CODE = "en"


T0 = at(2024, 9, 23, 10)


def link(actor, case, other, note=""):
    return case_act(actor=actor, case=fresh(case), action="link", data={"case": other.tracking_code, "note": note})


def relations(case, user):
    return [(v.relation, v.case.tracking_code if v.case else None, v.via) for v in case_links(case=case, user=user)]


def test_a_link_is_one_row_read_both_ways_and_written_on_both_timelines(cast, units):
    a = drill_create(cast.bob, now=T0)
    b = drill_create(cast.bob, title="路灯不亮", now=T0)
    link(cast.alice, b, a, note="同一路段")
    stored = CaseLink.objects.get()
    assert (stored.from_case, stored.to_case, stored.kind) == (a, b, "related_to")  # lower id first
    assert stored.created_by == cast.alice and stored.note == "同一路段"
    assert relations(a, cast.alice) == [("related_to", b.tracking_code, "")]
    assert relations(b, cast.alice) == [("related_to", a.tracking_code, "")]
    for case, other in ((a, b), (b, a)):
        entry = fresh(case).timeline.get(action="link")
        assert entry.data["relation"] == "related_to" and entry.data["case"] == other.tracking_code
        assert entry.actor == cast.alice and not entry.public
        assert AuditEntry.objects.filter(action="cases.drill.link", target_id=str(case.pk)).count() == 1
    # the same link again, from either side, is a conflict; nothing more is written
    for x, y in ((a, b), (b, a)):
        with pytest.raises(CaseConflict):
            link(cast.alice, x, y)
    assert CaseLink.objects.count() == 1 and fresh(a).timeline.filter(action="link").count() == 1


def test_a_case_is_not_linked_to_itself_nor_from_or_to_a_merged_case(cast, units):
    a = drill_create(cast.bob, now=T0)
    survivor, dup = drill_create(cast.bob, now=T0), drill_create(cast.bob, now=T0)
    case_merge(actor=cast.alice, survivor=survivor, duplicates=[dup], now=T0)
    with pytest.raises(TransitionNotAllowed) as refused:
        link(cast.alice, a, a)
    assert "case" in refused.value.message_dict
    with pytest.raises(TransitionNotAllowed) as refused:
        link(cast.alice, a, dup)
    assert "case" in refused.value.message_dict
    assert "link" not in {o.name for o in case_actions(cast.alice, fresh(dup))}
    with pytest.raises(TransitionNotAllowed):
        case_link(actor=cast.alice, case=fresh(dup), other=a)
    with pytest.raises(TransitionNotAllowed) as refused:  # one case, by its tracking code
        case_act(actor=cast.alice, case=a, action="link", data={"case": ""})
    assert "case" in refused.value.message_dict
    assert not CaseLink.objects.exists()


def test_outsider_wrong_role_and_out_of_scope_target_are_refused_and_leave_nothing(cast, units):
    a = drill_create(cast.bob, now=T0)
    a2 = drill_create(cast.bob, now=T0)
    b = drill_create(cast.charlie, point=POINT_B, now=T0)  # district B: Alice does not see it
    with pytest.raises(Http404):  # Charlie does not see a: as if it did not exist
        link(cast.charlie, a, b)
    with pytest.raises(TransitionRefused):  # Bob sees a, but a grid worker links nothing
        link(cast.bob, a, a2)
    assert "link" not in {o.name for o in case_actions(cast.bob, a)}
    with pytest.raises(Http404):  # a target Alice may not see is answered as not found
        link(cast.alice, a, b)
    with pytest.raises(Http404):  # ... through the service too
        case_link(actor=cast.alice, case=a, other=b)
    assert not CaseLink.objects.exists()
    assert not fresh(a).timeline.filter(action="link").exists() and not b.timeline.filter(action="link").exists()


def test_handing_over_opens_a_case_of_another_type_and_links_them_in_one_step(cast, units):
    drill = drill_create(cast.bob, reporter=units.rita, reporter_phone="13800138000", text="井盖缺失，已围挡",
                         now=T0)
    case_act(actor=cast.alice, case=drill, action="hand_over", data={"note": "转交信访办"}, now=at(2024, 9, 23, 11))
    drill = fresh(drill)
    relay = Case.objects.get(case_type="relay")
    assert drill.state == "handed_over" and drill.closed_at == at(2024, 9, 23, 11)
    assert (relay.state, relay.title, relay.text, relay.grid, relay.reporter, relay.reporter_phone) == (
        "new", drill.title, drill.text, drill.grid, units.rita, "13800138000")
    assert relay.created_by == cast.alice and relay.handling_due_at is not None  # the relay's own clock
    assert relations(drill, cast.alice) == [("transferred_to", relay.tracking_code, "")]
    assert relations(relay, cast.alice) == [("transferred_from", drill.tracking_code, "")]
    step = drill.timeline.get(action="hand_over")
    assert step.data["opened"] == [relay.tracking_code] and step.note == "转交信访办"
    assert [e.action for e in relay.timeline.order_by("at", "id")] == ["create", "link"]
    assert CaseLink.objects.get().note == "转交信访办"


def test_a_refused_hand_over_opens_nothing_and_links_nothing(cast, units):
    guarded = drill_create(cast.bob, title="!不可转交", now=T0)
    with pytest.raises(TransitionNotAllowed):  # the guard refuses it
        case_act(actor=cast.alice, case=guarded, action="hand_over", data={})
    with pytest.raises(TransitionRefused):  # a grid worker may not hand over
        case_act(actor=cast.bob, case=drill_create(cast.bob, now=T0), action="hand_over", data={})
    assert not Case.objects.filter(case_type="relay").exists() and not CaseLink.objects.exists()
    assert fresh(guarded).state == "new"


def test_a_step_that_fails_after_opening_the_new_case_leaves_neither_case_nor_link(cast, units):
    """The upload store runs after the new case is opened and linked: its refusal undoes all."""
    def refuse(uploads):
        raise TransitionNotAllowed({"files": "not this file"})

    failing = CaseType(code="handfail", label="handfail", states={"new": "new", "gone": "gone", "merged": "merged"},
                       initial="new", closed_states=frozenset({"gone"}), file_store=refuse,
                       transitions={"hand_over": Transition("hand_over", ("new",), "gone", CENTRE, closes=True,
                                                            opens=Opens("relay", link="led_to"),
                                                            inputs=(Input("files", "files"),))})
    registry.register(failing)
    try:
        from civicgrid.cases.services import Location, case_create

        case = case_create(actor=cast.bob, case_type="handfail", title="井盖", location=Location(114.02, 22.51),
                           now=T0)
        before = Case.objects.count()
        with pytest.raises(TransitionNotAllowed) as refused:
            case_act(actor=cast.alice, case=case, action="hand_over", data={},
                     files=[type("U", (), {"name": "a.txt", "content": b"x"})()])
        assert "files" in refused.value.message_dict
        assert Case.objects.count() == before and not CaseLink.objects.exists()
        assert fresh(case).state == "new" and not fresh(case).timeline.filter(action="link").exists()
    finally:
        registry.unregister("handfail")


def test_a_type_names_a_link_kind_that_reads_two_ways():
    with pytest.raises(ValueError):
        Opens("relay", link="related_to")
    with pytest.raises(ValueError):
        Opens("relay", link="cousin_of")


def test_merging_keeps_the_links_and_the_survivor_shows_them(cast, units):
    x = drill_create(cast.bob, now=T0)
    dup = drill_create(cast.bob, now=T0)
    survivor = drill_create(cast.bob, now=T0)
    link(cast.alice, dup, x)
    case_merge(actor=cast.alice, survivor=fresh(survivor), duplicates=[fresh(dup)], now=T0)
    row = CaseLink.objects.get()
    assert {row.from_case_id, row.to_case_id} == {x.pk, dup.pk}  # history is not rewritten
    assert relations(survivor, cast.alice) == [("related_to", x.tracking_code, dup.tracking_code)]
    assert relations(x, cast.alice) == [("related_to", dup.tracking_code, "")]  # it shows the merged case
    assert set(cases_linked_with(case=survivor)) == {x}
    assert set(cases_linked_with(case=x)) == {dup}
    # the survivor may be linked again directly to x: a link of its own
    link(cast.alice, survivor, x)
    assert sorted(r[2] for r in relations(survivor, cast.alice)) == ["", dup.tracking_code]


def test_a_linked_case_the_reader_may_not_see_is_shown_without_anything_of_it(cast, units, client):
    a = drill_create(cast.bob, now=T0)
    b = drill_create(cast.charlie, point=POINT_B, title="乙区机密标题", now=T0)
    case_link(actor=None, case=a, other=b, note="乙区的说明")  # the platform sees both
    [seen] = case_links(case=a, user=cast.alice)
    assert seen.case is None and seen.note == "" and seen.relation == "related_to"
    [full] = case_links(case=b, user=cast.charlie)
    assert full.case is None  # Charlie (district B) does not see a either
    assert [c.pk for c in cases_linked_with(case=a)] == [b.pk]  # (the list filter narrows to what is visible)
    client.force_login(cast.alice)
    detail = client.get(f"/api/v1/cases/{a.pk}").json()
    assert detail["links"] == [{"relation": "related_to", "label": "related to", "visible": False, "case_id": None,
                                "tracking_code": None, "case_type": None, "title": None, "state_label": None,
                                "via": "", "note": "", "created_at": detail["links"][0]["created_at"]}]
    assert client.get(f"/api/v1/cases/{a.pk}/links").json() == detail["links"]
    page = client.get(f"/cases/{a.tracking_code}/").content.decode()
    assert 'id="links"' in page and b.tracking_code not in page and "乙区机密标题" not in page
    assert "乙区的说明" not in page
    listed = client.get("/api/v1/cases", {"linked_to": b.tracking_code})  # b is not Alice's to name
    assert listed.status_code == 422 and "linked_to" in listed.json()["error"]["fields"]
    assert client.get(f"/api/v1/cases/{b.pk}/links").status_code == 404
    listed_page = client.get("/cases/", {"linked_to": b.tracking_code})  # the page: nothing, as for no such case
    assert listed_page.status_code == 200 and a.tracking_code not in listed_page.content.decode()
    assert 'data-filter="linked_to"' not in listed_page.content.decode()


def test_the_api_and_the_pages_show_links_both_ways_and_search_by_link(cast, units, client):
    a = drill_create(cast.bob, now=T0)
    other = drill_create(cast.bob, title="路灯不亮", now=T0)
    unrelated = drill_create(cast.bob, title="无关", now=T0)
    client.force_login(cast.alice)
    done = client.post(f"/api/v1/cases/{a.pk}/actions/link", {"case": other.tracking_code, "note": "同一路段"},
                       content_type="application/json")
    assert done.status_code == 200, done.content
    again = client.post(f"/api/v1/cases/{a.pk}/actions/link", {"case": other.tracking_code},
                        content_type="application/json")
    assert again.status_code == 409
    [out] = client.get(f"/api/v1/cases/{other.pk}/links").json()
    assert (out["relation"], out["tracking_code"], out["title"], out["note"]) == (
        "related_to", a.tracking_code, a.title, "同一路段")
    found = client.get("/api/v1/cases", {"linked_to": a.tracking_code}).json()["items"]
    assert [c["id"] for c in found] == [other.pk]
    assert [c["id"] for c in client.get("/api/v1/cases", {"linked_to": str(other.pk)}).json()["items"]] == [a.pk]
    for bad in ("NOSUCHCODE", "²", "a b", "9" * 30, "0"):  # never a 500: 422 naming the field
        answer = client.get("/api/v1/cases", {"linked_to": bad})
        assert answer.status_code == 422 and "linked_to" in answer.json()["error"]["fields"], bad
    page = client.get(f"/cases/{other.tracking_code}/").content.decode()
    assert a.tracking_code in page and 'data-relation="related_to"' in page
    assert "linked: related to" in page  # the timeline's step
    listed = client.get("/cases/", {"linked_to": a.tracking_code}).content.decode()
    assert other.tracking_code in listed and unrelated.tracking_code not in listed
    # Bob (grid worker) may read the links but not make one; Charlie sees nothing of either case
    client.force_login(cast.bob)
    refused = client.post(f"/api/v1/cases/{a.pk}/actions/link", {"case": unrelated.tracking_code},
                          content_type="application/json")
    assert refused.status_code == 403
    client.force_login(cast.charlie)
    assert client.get(f"/api/v1/cases/{a.pk}/links").status_code == 404
    assert client.get("/api/v1/cases", {"linked_to": a.tracking_code}).status_code == 422
    assert CaseLink.objects.count() == 1
