"""Every step of the dispute declaration, through the service façade (``rules.case_act``) and the
API: refused to an outsider (404), to a wrong role (403), to an anonymous caller (401/403), and
accepted from the right role with the same input (undone); ``case_actions`` offers it to exactly
those the one way in accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from django.http import Http404

from civicgrid.cases.errors import CaseConflict, TransitionNotAllowed, TransitionRefused
from civicgrid.cases.rules import case_act, case_actions
from civicgrid.disputes.casetype import build_dispute_type
from civicgrid.disputes.tests.conftest import fresh, register

VALID: dict[str, dict[str, Any]] = {
    "route": {},
    "accept": {},
    "return": {"reason": "不属本会受理范围"},
    "assign_mediator": {"mediator": "MIA"},
    "take": {},
    "start": {},
    "session": {"note": "调解记录", "held_on": "TODAY"},
    "record_refusal": {"side": "applicant", "reason": "不同意调解"},
    "refer": {"referral": "court"},
    "agree_written": {"terms": "赔偿 | 甲 | 2030-01-01"},
    "agree_oral": {"terms": "互相道歉"},
    "fail": {"reason": "分歧大", "referral": "court"},
    "follow_up": {"note": "已履行", "performed": "yes"},
    "apply_confirmation": {"court": "甲区人民法院"},
    "record_confirmation": {"outcome": "confirmed"},
    "close": {},
    "assess": {"threat_petition": "yes"},
}
STATE_STEPS = {
    "registered": [],
    "routed": ["route"],
    "accepted": ["route", "accept"],
    "assigned": ["route", "accept", "assign_mediator"],
    "refusing": ["route", "accept", "record_refusal"],
    "mediating": ["route", "accept", "start"],
    "agreed": ["route", "accept", "start", "agree_oral"],
    "performed": ["route", "accept", "start", "agree_oral", "follow_up"],
    "written": ["route", "accept", "start", "agree_written"],
    "confirming": ["route", "accept", "start", "agree_written", "apply_confirmation"],
}


class Undo(Exception):
    pass


def _data(action: str, case: Any) -> dict[str, Any]:
    data = dict(VALID[action])
    if data.get("held_on") == "TODAY":
        from django.utils import timezone

        data["held_on"] = timezone.localdate().isoformat()
    if data.get("mediator") == "MIA":
        from civicgrid.org.models import User

        data["mediator"] = User.objects.get(username="mia").pk
    return data


def _try(user: Any, case: Any, action: str) -> str:
    try:
        with transaction.atomic():
            case_act(actor=user, case=fresh(case), action=action, data=_data(action, case))
            raise Undo
    except Undo:
        return ""
    except (Http404, TransitionRefused, TransitionNotAllowed, CaseConflict) as exc:
        return type(exc).__name__


@pytest.fixture
def people(mediation: Any) -> dict[str, Any]:
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant, user_create

    lea = user_create(actor=None, username="lea", password="Correct-Horse-42", display_name="Lea")
    membership_grant(actor=None, user=lea, role=Role.LEADER, region=mediation.cast.city.a)
    c = mediation.cast
    return {"grid_worker": c.bob, "dispatcher": c.alice, "mediator": mediation.mia, "leader": lea,
            "admin": c.admin_a, "outsider": c.charlie, "outsider_mediator": mediation.max}


@pytest.fixture
def cases(mediation: Any, people: Any) -> dict[str, Any]:
    out = {}
    for name, steps in STATE_STEPS.items():
        case = register(mediation.cast.bob)
        for step in steps:
            case = case_act(actor=people["admin"], case=fresh(case), action=step, data=_data(step, case))
        out[name] = fresh(case)
    return out


def test_each_step_is_refused_to_an_outsider_a_wrong_role_and_anonymous_and_taken_by_the_right_one(
        client: Any, mediation: Any, people: Any, cases: Any) -> None:
    ctype = build_dispute_type()
    problems = []
    for action, t in ctype.transitions.items():
        case = next((c for c in cases.values()
                     if any(o.name == action and not o.refused for o in case_actions(people["admin"], fresh(c)))), None)
        if case is None:
            problems.append(f"{action}: no case allows it")
            continue
        before = (fresh(case).state, fresh(case).version)
        url = f"/api/v1/cases/{case.pk}/actions/{action}"
        body = json.dumps(_data(action, case))
        for who in ("outsider", "outsider_mediator"):
            if _try(people[who], case, action) not in ("Http404", "OutOfScope"):
                problems.append(f"{action}: {who} not 404 through the service")
            client.force_login(people[who])
            if client.post(url, body, content_type="application/json").status_code != 404:
                problems.append(f"{action}: {who} not 404 through the API")
        wrong = next(r for r in ("grid_worker", "mediator", "dispatcher", "leader") if r not in t.roles)
        if _try(people[wrong], case, action) != "TransitionRefused":
            problems.append(f"{action}: wrong role {wrong} not refused through the service")
        client.force_login(people[wrong])
        if client.post(url, body, content_type="application/json").status_code != 403:
            problems.append(f"{action}: wrong role {wrong} not 403 through the API")
        client.logout()
        if client.post(url, body, content_type="application/json").status_code not in (401, 403):
            problems.append(f"{action}: anonymous accepted")
        if (fresh(case).state, fresh(case).version) != before:
            problems.append(f"{action}: a refusal changed the case")
        client.force_login(people["admin"])
        try:
            with transaction.atomic():
                r = client.post(url, body, content_type="application/json")
                if r.status_code != 200:
                    problems.append(f"{action}: the right role got {r.status_code} {r.content!r}")
                raise Undo
        except Undo:
            pass
    assert problems == [], "\n".join(problems)


def test_case_actions_offers_exactly_what_the_one_way_in_accepts(people: Any, cases: Any) -> None:
    ctype = build_dispute_type()
    mismatches = []
    for name, case in cases.items():
        for label, user in people.items():
            try:
                offers = {o.name: o for o in case_actions(user, fresh(case))}
            except Http404:
                offers = {}
            for action in ctype.transitions:
                offered = action in offers and not offers[action].refused
                refusal = _try(user, case, action)
                if offered != (refusal == ""):
                    mismatches.append(f"{name} {label} {action}: offered={offered}, service: {refusal or 'accepted'}")
    assert mismatches == [], "\n".join(mismatches)
