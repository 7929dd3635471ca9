"""Every input a type declares reaches the engine through every door, typed and checked: the API
carries a type's own fields (and refuses fields the action does not declare), targets of any name
(department, region, case) are scope-checked before any effect runs and written to the timeline as
codes, malformed case references are 422 naming the field, and uploads of any name are stored only
once the step is allowed. A small type declared here (HANDOVER) names its inputs its own way."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from civicgrid.cases import registry
from civicgrid.cases.errors import TransitionNotAllowed
from civicgrid.cases.registry import SYSTEM, CaseType, Input, Transition
from civicgrid.cases.rules import case_act
from civicgrid.cases.tests.conftest import POINT_A, at, fresh
from civicgrid.org.models import Role

pytestmark = pytest.mark.django_db

T0 = at(2024, 9, 23, 10)
CENTRE = frozenset({Role.DISPATCHER, Role.ADMIN, SYSTEM})
STORED: list[str] = []  # the names of the uploads the type's stores wrote
EFFECTS: list[dict[str, Any]] = []  # what the note_it effect was given


def _store(uploads: Sequence[Any]) -> list[dict[str, Any]]:
    """Stores that set no ``kind`` key: the engine must know photos from files by the input."""
    STORED.extend(u.name for u in uploads)
    return [{"name": u.name, "size": len(u.content)} for u in uploads]


def _note_it(ctx: Any) -> None:
    EFFECTS.append(dict(ctx.data))


HANDOVER = CaseType(
    code="handover",
    label="handover",
    states={"new": "new", "working": "working", "done": "done", "merged": "merged"},
    initial="new",
    closed_states=frozenset({"done"}),
    transitions={
        "note_it": Transition("note_it", ("new", "working"), None, CENTRE, label="note it", effect=_note_it,
                              inputs=(Input("handover", "department"), Input("area", "region"),
                                      Input("related", "case"), Input("hours", "number"))),
        "sign": Transition("sign", ("new",), "working", CENTRE, label="sign",
                           inputs=(Input("agreement", "files", required=True), Input("evidence", "photos"))),
        "close": Transition("close", ("working",), "done", CENTRE, label="close", closes=True, requires=("note",)),
    },
    photo_store=_store,
    file_store=_store,
)


@pytest.fixture(autouse=True)
def handover_type() -> Iterator[CaseType]:
    registry.register(HANDOVER)
    STORED.clear()
    EFFECTS.clear()
    yield HANDOVER
    registry.unregister(HANDOVER.code)


def handover_create(actor: Any, point: tuple[float, float] = POINT_A) -> Any:
    from civicgrid.cases.services import Location, case_create

    return case_create(actor=actor, case_type="handover", location=Location(lon=point[0], lat=point[1]),
                       title="交接", now=T0)


def act(client: Any, case: Any, action: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/cases/{case.pk}/actions/{action}", data=json.dumps(body),
                       content_type="application/json")


def fields_of(response: Any) -> dict[str, list[str]]:
    return response.json()["error"]["fields"]


# --- malformed case references (review #4) ---------------------------------------------------------


@pytest.mark.parametrize("bad", ["²", "99999999999999999999999", 0, -5, "a b", "x" * 40])
def test_a_malformed_case_reference_is_422_naming_the_field(client, cast, bad):
    case = handover_create(cast.bob)
    client.force_login(cast.alice)
    r = act(client, case, "merge", {"duplicates": [bad]})
    assert r.status_code == 422, r.content
    assert {k.split(".")[0] for k in fields_of(r)} == {"duplicates"}
    with pytest.raises(TransitionNotAllowed) as exc:  # the page's way in: the same parser
        case_act(actor=cast.alice, case=case, action="note_it", data={"related": bad})
    assert list(exc.value.message_dict) == ["related"]
    assert fresh(case).state == "new" and EFFECTS == []
