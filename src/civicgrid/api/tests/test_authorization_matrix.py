"""The authorization matrix (issue 13, "Keep them closed"): every role of the role table (the org
``Role`` enum) in and out of scope, and an anonymous outsider, against every API operation (read from
the OpenAPI document the ninja router builds) and every page (walked from the URL patterns), side
doors included: suggestions, duplicates, exports, maps and GeoJSON, Open311, metric drill-downs.

Nothing here lists the endpoints by hand: a new operation or page is attacked as soon as it is
routed (a path parameter with a new name fails the test until it is given a sample below).

The world: districts A and B; for each role one person in district A and one in district B (a
resident has no district). Two events of district A: one reported anonymously and worked on by the
centre (internal notes, a supervision, a department), one reported by the resident Rita and worked
on the same way. The rules, checked on every answer:

* never a server error (5xx);
* an anonymous outsider gets 401/403 from every API operation that is not public, and a redirect
  to the sign-in page (or 403) from every page that is not public;
* somebody the case does not reach (district B's people, a resident who did not report it, an
  anonymous outsider) gets 404 for it wherever the path names it — the case, its tracking code, a
  request on it, district A's regions and departments (403 is accepted from write operations: a
  wrong role);
* outside the doors that publish a case's public view (tracking, Open311, the catalogue), none of
  their answers contains district A's case (its code or title);
  no answer to them at all contains an internal note, a supervision note or a staff name;
* a role that may only read (no ``act`` in the role table: the auditor) changes nothing it reaches;
* Rita reads her own case, but only its public view: no internal note or staff name in anything
  she is answered, anywhere.

The actions (second half) are driven by the case types' declarations and the engine's
``case_actions``: what it offers each person is exactly what the one way in accepts, and each
action of the event type, of DRILL and of TASK (given to a person) is refused to an outsider, a
wrong role and a foreign target (a department, or a person, out of the case's reach) through the
service façade and the API.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from civicgrid.api.tests.conftest import POINT_B, fresh, jpeg, report
from civicgrid.events.photos import PhotoUpload

pytestmark = pytest.mark.django_db

INTERNAL = "内部批示MX7"  # a note written for the staff only
SUPERVISION = "督办事项MX7"
TITLE = "甲区井盖缺失MX7"
STAFF_NAMES = ("Alice-MX7", "Evan-MX7")  # display names of district A's dispatcher and handler
HIDDEN_NAMESPACES = ("admin", "api-1.0.0", "ops")  # the admin has its own tests; the API is walked by its
# schema; the health and metrics endpoints answer machines (public health, metrics by token: tests/ops)


@dataclass
class Principal:
    label: str
    user: Any  # None: anonymous
    reaches: bool  # district A's case is in this person's jurisdiction
    owns: bool = False  # the resident who reported the second case
    read_only: bool = False  # a role that may not act (the auditor): no write of theirs succeeds
    client: Client = field(default_factory=Client)


def _read_only(role: str) -> bool:
    """A role that may only read: no ``act`` in the role table. A leader acts through the few
    actions the engine names it for (supervise, escalate, decide a request), so it is not one."""
    from civicgrid.org.models import Role
    from civicgrid.org.permissions import ACT, role_allows

    return not role_allows(role, ACT) and role not in (Role.LEADER, Role.RESIDENT)


@dataclass
class World:
    case: Any  # district A, reported anonymously
    own: Any  # district A, reported by Rita
    request_id: int
    photo_sha: str
    samples: dict[str, str]
    principals: list[Principal]


def _people(cast: Any, units: Any) -> list[Principal]:
    """One person per role in district A and in district B, from the role table itself."""
    from civicgrid.org.models import Role
    from civicgrid.org.services import department_create, membership_grant, user_create

    city = cast.city
    b_dept = department_create(actor=None, code="440302-sw", name="乙区水务局", region=city.b, function="water")
    known = {("A", Role.DISPATCHER): cast.alice, ("A", Role.GRID_WORKER): cast.bob,
             ("A", Role.DEPARTMENT_HANDLER): units.evan, ("A", Role.ADMIN): cast.admin_a,
             ("B", Role.DISPATCHER): cast.charlie}
    people = []
    for role in Role:
        for side in ("A", "B"):
            if role == Role.RESIDENT and side == "B":
                continue
            user = known.get((side, role))
            if user is None and role == Role.RESIDENT:
                user = units.rita
            if user is None:
                user = user_create(actor=None, username=f"{role.value}_{side}", password="Correct-Horse-42",
                                   display_name=f"{role.value} {side}")
                district = city.a if side == "A" else city.b
                if role == Role.DEPARTMENT_HANDLER:
                    membership_grant(actor=None, user=user, role=role, department=b_dept)
                elif role == Role.GRID_WORKER:
                    membership_grant(actor=None, user=user, role=role, region=city.get("440302001001001"))
                else:
                    membership_grant(actor=None, user=user, role=role, region=district)
            reaches = side == "A" and role != Role.RESIDENT
            people.append(Principal(f"{role.value}@{side}", user, reaches, owns=role == Role.RESIDENT,
                                    read_only=_read_only(role)))
    people.append(Principal("anonymous", None, False))
    for p in people:
        if p.user is not None:
            p.client.force_login(p.user)
    # those the case does not reach go first: the others' writes change the case as they go
    return sorted(people, key=lambda p: p.reaches)


def _worked_on(case: Any, cast: Any) -> Any:
    from civicgrid.cases.services import case_supervise
    from civicgrid.events import services as ev

    ev.event_register(actor=cast.alice, case=fresh(case), note=INTERNAL)
    ev.event_dispatch(actor=cast.alice, case=fresh(case), note=INTERNAL)  # to the water bureau (Evan)
    case_supervise(actor=cast.alice, case=fresh(case), kind="supervise", note=SUPERVISION)
    return fresh(case)


def _alert_of(cast: Any) -> int:
    """An alert on district A's two cases (a hotspot of two), raised by the warning tick."""
    from civicgrid.warning.models import Alert
    from civicgrid.warning.services import rule_save, warning_tick

    if not Alert.objects.exists():
        rule_save(actor=None, code="matrix-hot", name="Hotspot", kind="hotspot",
                  params={"n": 2, "cell_m": 2000, "days": 7})
        warning_tick()
    return Alert.objects.get().pk


@pytest.fixture
def matrix(world: Any, units: Any, settings: Any) -> World:
    from civicgrid.cases.services import case_request_approval, party_add

    settings.CIVICGRID_RATE_PUBLIC_PER_MINUTE = 0  # the matrix is not a flood
    world.alice.display_name, units.evan.display_name = STAFF_NAMES  # names a timeline records
    world.alice.save(update_fields=["display_name"])
    units.evan.save(update_fields=["display_name"])
    now = timezone.now()  # reported today: within every window (duplicates, dashboards)
    case = _worked_on(report(None, title=TITLE, text=TITLE + "，有行人掉落危险", now=now,
                             photos=[PhotoUpload("a.jpg", jpeg())]).case, world)
    own = _worked_on(report(units.rita, text="我家楼下上水井盖缺失", now=now).case, world)
    req = case_request_approval(actor=units.evan, case=fresh(case), kind="extension", reason=INTERNAL, amount=2)
    party = party_add(actor=world.alice, case=fresh(case), kind="reporter", name="王女士", phone="13800138000")
    region = world.city.get("440301001")
    # a generated document of the case, delivered with a proof (its downloads are walked too)
    from civicgrid.cases.documents import delivery_record, document_generate
    from civicgrid.core.inputs import Upload

    version = document_generate(actor=world.alice, case=fresh(case), kind="work_order")
    delivery = delivery_record(actor=world.alice, case=fresh(case), document=version.document_id, party=party,
                               method="post", proof=[Upload("回执.txt", "回执".encode())])
    documents = {"document_id": str(version.document_id), "document": str(version.document_id),
                 "number": str(version.number), "delivery_id": str(delivery.pk), "delivery": str(delivery.pk)}
    samples = {**documents, "case_id": str(case.pk), "code": case.tracking_code, "request_id": str(req.pk),
               "action": "register", "metric": "closure", "name": "new", "fmt": "csv",
               "sha": case.event.photos[0]["sha256"], "token": "none", "region": region.code,
               "department": units.water.code, "party_id": str(party.pk), "alert_id": str(_alert_of(world)),
               **_assessed(world)}
    return World(case=case, own=own, request_id=req.pk, photo_sha=samples["sha"], samples=samples,
                 principals=_people(world, units))


# --- what an answer may contain ----------------------------------------------------------------------


def _text(response: Any) -> str:
    body = getattr(response, "streaming_content", None)
    raw = b"".join(body) if body is not None else response.content
    text = raw.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        try:  # JSON escapes Chinese: read it back as text
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text


def _leaks(response: Any, w: World, who: Principal, *, public_door: bool) -> list[str]:
    if who.reaches:
        return []  # the staff of district A read the whole case
    text = _text(response)
    found = [m for m in (INTERNAL, SUPERVISION, *STAFF_NAMES) if m in text]
    if not who.reaches and not public_door:
        found += [m for m in (w.case.tracking_code, TITLE) if m in text]
    return found


# --- the API, from its OpenAPI document ----------------------------------------------------------------


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def _sample(schema: dict[str, Any], node: dict[str, Any], name: str = "") -> Any:
    """A small valid value for a JSON schema (required properties only)."""
    node = _resolve(schema, node)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            options = [o for o in node[key] if _resolve(schema, o).get("type") != "null"]
            return _sample(schema, options[0], name)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        return {k: _sample(schema, props[k], k) for k in node.get("required", []) if k in props}
    if kind == "array":
        return [_sample(schema, node.get("items", {}), name)] if node.get("minItems") else []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if node.get("format") == "date":
        return "2024-09-23"
    return "MX7 sample"


def _api_operations() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    from civicgrid.api.api import api

    schema = api.get_openapi_schema()
    ops = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ops.append((method.upper(), path, op, schema))
    return ops


def _public(op: dict[str, Any]) -> bool:
    """An operation an anonymous client may call: no security, or one that lets anonymous through."""
    security = op.get("security")
    return not security or any("Anonymous" in name for req in security for name in req)


# path parameters naming a record of district A
OBJECT_PARAMS = {"case_id", "request_id", "code", "party_id", "alert_id"}
GLOBAL_PATHS = ("/api/v1/taxonomy/", "/api/v1/events/track/")  # the public catalogue, public tracking


def _api_url(path: str, op: dict[str, Any], w: World) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "code" and path.startswith("/api/v1/regions/"):
            return w.samples["region"]
        if name == "code" and path.startswith("/api/v1/departments/"):
            return w.samples["department"]
        if name == "code" and path.startswith("/api/v1/taxonomy/"):
            return "C0101"
        assert name in w.samples, f"{path}: give the path parameter {name!r} a sample in the matrix"
        return w.samples[name]

    return re.sub(r"\{(?:\w+:)?(\w+)\}", value, path)


def test_every_api_operation_answers_every_role_in_and_out_of_scope_without_leaking(matrix: World) -> None:
    w = matrix
    problems: list[str] = []
    ops = _api_operations()
    assert len(ops) > 30  # the walk found the API
    for who in w.principals:
        for method, path, op, schema in ops:
            url = _api_url(path, op, w)
            body = None
            if "requestBody" in op:
                content = op["requestBody"]["content"]
                media = content.get("application/json") or next(iter(content.values()))
                body = _sample(schema, media["schema"])
            call = getattr(who.client, method.lower())
            response = (call(url, json.dumps(body), content_type="application/json") if body is not None
                        else call(url))
            status = response.status_code
            names_object = (any(f"{{{p}}}" in path or f":{p}}}" in path for p in OBJECT_PARAMS)
                            and not path.startswith(GLOBAL_PATHS))
            where = f"{who.label} {method} {url} → {status}"
            if status >= 500:
                problems.append(f"{where}: server error")
                continue
            public = _public(op)
            if who.user is None and not public:
                if status not in (401, 403):
                    problems.append(f"{where}: an anonymous outsider must get 401/403")
            elif not who.reaches and names_object:
                allowed = (404,) if method == "GET" else (401, 403, 404)
                if status not in allowed:
                    problems.append(f"{where}: out of scope must be {' or '.join(map(str, allowed))}")
            elif who.read_only and names_object and method != "GET" and status < 300:
                problems.append(f"{where}: a read-only role must not change anything (403)")
            leaked = _leaks(response, w, who, public_door=path.startswith(GLOBAL_PATHS))
            if leaked:
                problems.append(f"{where}: leaks {leaked}")
    for who in w.principals:  # side doors: Rita's own case, drill-downs and searches by their text
        for url in (f"/api/v1/cases/{w.own.pk}", f"/api/v1/events/{w.own.tracking_code}",
                    f"/api/v1/dispatch/cases/{w.own.pk}/duplicates", "/api/v1/cases?q=MX7",
                    "/api/v1/metrics/closure/cases?part=denominator", "/api/v1/events?limit=500",
                    f"/api/v1/geo/lookup?lon={w.case.lon}&lat={w.case.lat}"):
            response = who.client.get(url)
            where = f"{who.label} GET {url} → {response.status_code}"
            if response.status_code >= 500:
                problems.append(f"{where}: server error")
            leaked = _leaks(response, w, who, public_door=False)
            if leaked:
                problems.append(f"{where}: leaks {leaked}")
    assert problems == [], "\n".join(problems)


# --- the pages, from the URL patterns ------------------------------------------------------------------


PUBLIC_PAGES = {"web:home", "web:signin", "web:signout", "web:report", "web:suggest", "web:track",
                "web:track_code", "web:track_rate"}
PUBLIC_NAMESPACES = ("open311",)  # GeoReport v2 is public by design (what it publishes: issue 13.1)
# pages that publish a case's public view by its tracking code (no internal note, no staff name)
PUBLISHING = {"web:track", "web:track_code", "web:track_rate"}
POST_ONLY = {"web:case_act", "web:track_rate", "web:signout", "web:case_party_add", "web:case_party_reveal",
             "warning:act"}


def _patterns(resolvers: list[Any], prefix: str = "", ns: str = "") -> list[tuple[str, str]]:
    """(route, namespaced name) of every routed page, the admin and the API left out."""
    out = []
    for p in resolvers:
        if isinstance(p, URLResolver):
            space = p.namespace or ns
            if space in HIDDEN_NAMESPACES or (p.app_name or "") in HIDDEN_NAMESPACES:
                continue
            if "api/" in str(p.pattern) or "admin/" in str(p.pattern) or "i18n/" in str(p.pattern):
                continue
            out += _patterns(p.url_patterns, prefix + str(p.pattern), f"{space}:" if space else "")
        elif isinstance(p, URLPattern) and p.name:
            out.append((prefix + str(p.pattern), f"{ns}{p.name}"))
    return out


def _assessed(world: Any) -> dict[str, str]:
    """A computed unit-assessment period of district A and one of its scores (its ranking pages and
    the score's adjustments are walked too)."""
    from civicgrid.assessment.services import period_compute, scheme_version_create

    scheme = scheme_version_create(actor=world.admin_a, code="matrix", name="矩阵考核",
                                   indicators=[{"metric": "closure", "weight": 1}],
                                   thresholds={"A": 90, "B": 75, "C": 60, "D": 40})
    today = timezone.localdate()
    period = period_compute(actor=world.admin_a, scheme=scheme, subject_kind="department", region=world.city.a,
                            first_day=today - dt.timedelta(days=30), last_day=today)
    score = period.scores.order_by("id").first()
    return {"pk": str(period.pk), "score_id": str(score.pk if score is not None else 0)}


def _page_url(route: str, w: World) -> str:
    route = route.lstrip("^").replace("\\.", ".")
    fmt = r"\.(?P<fmt>json|xml)$"
    route = route.replace(fmt.replace("\\.", "."), ".json").rstrip("$")

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        assert name in w.samples, f"{route}: give the URL parameter {name!r} a sample in the matrix"
        return w.samples[name]

    route = re.sub(r"<(?:\w+:)?(\w+)>", value, route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", value, route)
    return "/" + route


def _side_doors(w: World) -> list[tuple[str, str]]:
    """Pages with a query that makes them show cases: drill-downs, searches, suggestions, exports."""
    lon, lat = w.case.lon, w.case.lat
    return [
        ("/cases/?metric=closure&part=denominator&q=MX7", "web:cases"),  # (a query is echoed: no marker in it)
        ("/cases/?q=MX7", "web:cases"),
        (f"/report/suggest/?text={w.case.title}。{w.case.text}&lon={lon}&lat={lat}", "web:suggest"),
        ("/dashboard/export.csv?level=street", "web:dashboard_export"),
        ("/centre/map/?format=geojson", "web:centre_map"),
        (f"/open311/v2/requests.json?lat={lat}&long={lon}", "open311:requests"),
        (f"/open311/v2/requests/{w.own.tracking_code}.json", "open311:request"),
        (f"/track/{w.own.tracking_code}/", "web:track_code"),
        (f"/cases/{w.own.tracking_code}/", "web:case"),
        (f"/cases/{w.case.tracking_code}/photos/{w.photo_sha}/", "web:case_photo"),
    ]


def test_every_page_answers_every_role_in_and_out_of_scope_without_leaking(matrix: World) -> None:
    w = matrix
    pages = [(_page_url(route, w), name) for route, name in _patterns(get_resolver().url_patterns)]
    assert {"web:case", "web:dashboard_export", "open311:requests"} <= {n for _u, n in pages}
    pages += _side_doors(w)
    problems: list[str] = []
    for who in w.principals:
        for url, name in pages:
            public = name in PUBLIC_PAGES or name.split(":")[0] in PUBLIC_NAMESPACES
            method = "post" if name in POST_ONLY else "get"
            if name == "web:signout":
                continue  # it would end the session the rest of the walk uses
            response = getattr(who.client, method)(url, {"note": "MX7"} if method == "post" else None)
            status = response.status_code
            where = f"{who.label} {method.upper()} {url} → {status}"
            if status >= 500:
                problems.append(f"{where}: server error")
                continue
            if who.user is None and not public:
                to_signin = status == 302 and response["Location"].startswith("/signin/")
                if not (to_signin or status in (401, 403)):
                    problems.append(f"{where}: an anonymous outsider must be sent to sign in")
            names_case = ((w.case.tracking_code in url and name not in PUBLIC_PAGES)
                          or name in ("warning:alert", "warning:act"))  # an alert of district A
            if names_case and not who.reaches and who.user is not None and status != 404:
                problems.append(f"{where}: out of scope must be 404")
            publishing = name in PUBLISHING or name.split(":")[0] in PUBLIC_NAMESPACES
            leaked = _leaks(response, w, who, public_door=publishing)
            if leaked:
                problems.append(f"{where}: leaks {leaked}")
    assert problems == [], "\n".join(problems)


def test_the_matrix_sees_what_it_must_not_leak_where_it_may_be_shown(matrix: World, client: Client) -> None:
    """The detector works: district A's dispatcher does see the case, its notes and names, so their
    absence elsewhere means something."""
    alice = next(p for p in matrix.principals if p.label == "dispatcher@A")
    text = _text(alice.client.get(f"/api/v1/cases/{matrix.case.pk}"))
    assert matrix.case.tracking_code in text and INTERNAL in text and STAFF_NAMES[0] in text
    assert SUPERVISION in _text(alice.client.get(f"/cases/{matrix.case.tracking_code}/"))
    suggest = next(u for u, name in _side_doors(matrix) if name == "web:suggest")
    assert matrix.case.tracking_code in _text(alice.client.get(suggest))  # the side door does show cases
    charlie = next(p for p in matrix.principals if p.label == "dispatcher@B")
    other = report(None, text="乙区井盖缺失", lon=POINT_B[0], lat=POINT_B[1]).case
    assert other.tracking_code in _text(charlie.client.get("/api/v1/cases"))


# --- the actions, driven by the declarations and case_actions ---------------------------------------
#
# Every action of the event type and of the test types DRILL and TASK (their transitions and the generic
# actions) is tried by every person of district A on cases in each state: what ``case_actions``
# offers is exactly what the one way in (``rules.case_act``) accepts. Then each action through each
# interface (the service façade and the API) is refused to an outsider (404), a wrong role (403) and
# with a target outside the case's reach (404), and nothing changes.

B_DEPARTMENT = "440302-sw"  # district B's water bureau (made by _people)


def _refusals() -> tuple[type[BaseException], ...]:
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.http import Http404

    from civicgrid.core.errors import Conflict

    return (PermissionDenied, ValidationError, Http404, Conflict)


@dataclass
class ActionWorld:
    cases: list[Any]  # events and drills in every state the loop passes through
    duplicate: Any  # an open event to merge
    people: list[Principal]  # district A's, the resident, district B's
    units: Any


def _now() -> Any:
    return timezone.now()


def _event_in(state: str, world: Any, units: Any, *, request: str = "", deferred: bool = False,
              **fields: Any) -> Any:
    from civicgrid.events import services as ev

    case = report(units.rita, now=_now(), **fields).case
    steps = [("registered", lambda c: ev.event_register(actor=world.alice, case=c)),
             ("dispatched", lambda c: ev.event_dispatch(actor=world.alice, case=c)),
             ("handling", lambda c: ev.event_accept(actor=units.evan, case=c)),
             ("verifying", lambda c: ev.event_report_back(actor=units.evan, case=c, note="已修复",
                                                          photos=[PhotoUpload("a.jpg", jpeg())])),
             ("closed", lambda c: ev.event_verify(actor=world.bob, case=c, passed=True, note="已核查"))]
    for _name, step in steps:
        if case.state == state:
            break
        case = step(fresh(case))
    assert fresh(case).state == state
    return _asked(case, world, units, request=request, deferred=deferred)


def _asked(case: Any, world: Any, units: Any, *, request: str = "", deferred: bool = False) -> Any:
    """The case with a deferral granted, and/or a request of Evan's waiting."""
    from civicgrid.cases.services import case_decide_approval, case_request_approval

    if deferred:
        req = case_request_approval(actor=units.evan, case=fresh(case), kind="deferral", reason="等待施工")
        case_decide_approval(actor=world.alice, request=req, approve=True)
    if request:
        case_request_approval(actor=units.evan, case=fresh(case), kind=request, reason="材料未到", amount=2)
    return fresh(case)


def _drill_in(state: str, world: Any, units: Any) -> Any:
    from civicgrid.cases.rules import case_act
    from civicgrid.cases.tests.conftest import drill_create

    case = drill_create(world.bob, now=_now())
    if state in ("dispatched", "handling", "done"):
        case = case_act(actor=world.alice, case=case, action="dispatch", data={"department": units.water.code})
    if state in ("handling", "done"):
        case = case_act(actor=units.evan, case=fresh(case), action="accept", data={})
    if state == "done":
        case = case_act(actor=units.evan, case=fresh(case), action="finish", data={"note": "已处理"})
    assert fresh(case).state == state
    return fresh(case)


def _task_in(state: str, world: Any, mediator: Any, *, request: str = "", deferred: bool = False) -> Any:
    """A TASK case (given to a person: district A's mediator) in ``state``, with a deferral granted
    and/or a request of the mediator's waiting."""
    from civicgrid.cases.rules import case_act
    from civicgrid.cases.services import Location, case_create, case_decide_approval, case_request_approval
    from civicgrid.cases.tests.conftest import POINT_A

    case = case_create(actor=world.alice, case_type="task", title="邻里纠纷MX7",
                       location=Location(lon=POINT_A[0], lat=POINT_A[1]), now=_now())
    steps = [("assigned", lambda c: case_act(actor=world.alice, case=c, action="assign",
                                             data={"person": str(mediator.pk)})),
             ("working", lambda c: case_act(actor=mediator, case=c, action="accept", data={})),
             ("done", lambda c: case_act(actor=mediator, case=c, action="finish", data={"note": "已化解"}))]
    for _name, step in steps:
        if case.state == state:
            break
        case = step(fresh(case))
    if deferred:
        req = case_request_approval(actor=mediator, case=fresh(case), kind="deferral", reason="等待当事人")
        case_decide_approval(actor=world.alice, request=req, approve=True)
    if request:
        case_request_approval(actor=mediator, case=fresh(case), kind=request, reason="当事人外出", amount=2)
    assert fresh(case).state == state
    return fresh(case)


@pytest.fixture
def actions_world(world: Any, units: Any, settings: Any) -> Any:
    from civicgrid.cases import registry
    from civicgrid.cases.testing import TASK, register_drill, register_task

    register_drill()
    register_task()
    settings.CIVICGRID_RATE_PUBLIC_PER_MINUTE = 0
    people = _people(world, units)
    mediator = next(p.user for p in people if p.label == "mediator@A")
    cases = [_event_in(s, world, units) for s in ("reported", "registered", "dispatched", "verifying", "closed")]
    cases += [_event_in("handling", world, units, request="extension"),
              _event_in("handling", world, units, deferred=True)]
    cases += [_event_in("reported", world, units, request_type="咨询", text="请问垃圾分类几点收运？")]  # answerable
    cases += [_drill_in(s, world, units) for s in ("new", "dispatched", "handling", "done")]
    cases += [_asked(_drill_in("handling", world, units), world, units, request="extension"),
              _asked(_drill_in("handling", world, units), world, units, deferred=True)]
    # a document on an event and on a drill, so recording its delivery (and a new version) is offered
    from civicgrid.cases.documents import document_upload
    from civicgrid.cases.services import party_add
    from civicgrid.core.inputs import Upload

    for case in (cases[1], cases[-4]):  # delivered to one of the case's parties
        document_upload(actor=None, case=case, files=[Upload("通知.txt", "送达告知".encode())], kind="notice")
        party_add(actor=None, case=case, kind="reporter", name="王小明")
    cases += [_task_in(s, world, mediator) for s in ("new", "assigned", "working", "done")]
    cases += [_task_in("working", world, mediator, request="extension"),
              _task_in("working", world, mediator, deferred=True)]
    document_upload(actor=None, case=cases[-4], files=[Upload("通知.txt", "送达告知".encode())], kind="notice")
    party_add(actor=None, case=cases[-4], kind="reporter", name="王小明")
    duplicate = report(None, text="又一个井盖缺失", now=_now()).case
    yield ActionWorld(cases=cases, duplicate=duplicate, people=people, units=units)
    registry.unregister(TASK.code)  # the other tests list every registered type


def _declared(case: Any) -> list[tuple[str, tuple[Any, ...]]]:
    """Every action of the case's type, with its declared inputs: its transitions, then the
    generic actions."""
    from civicgrid.cases import registry, rules

    ctype = registry.of(case)
    return ([(t.name, t.inputs) for t in ctype.transitions.values()]
            + [(name, rules.GENERIC_INPUTS[name]) for name in registry.GENERIC_ACTIONS])


def _sample_input(case: Any, inputs: tuple[Any, ...], w: ActionWorld, *, department: str = "",
                  person: str = "mediator@A") -> tuple[dict[str, Any], list[Any], list[Any]]:
    """Valid input for an action, from its declared inputs (``department``: the code to name;
    ``person``: the label of the principal to name)."""
    from civicgrid.cases.models import ApprovalRequest
    from civicgrid.core.inputs import Upload

    data: dict[str, Any] = {}
    photos: list[Any] = []
    files: list[Any] = []
    pending = list(case.approval_requests.filter(state="pending").order_by("id"))
    for inp in inputs:
        if inp.kind == "text":
            data[inp.name] = "MX7 样例"
        elif inp.kind == "department":
            data[inp.name] = department or w.units.water.code
        elif inp.kind == "departments":
            data[inp.name] = [department or w.units.urban.code]
        elif inp.kind == "number":
            data[inp.name] = "1"
        elif inp.kind == "person":
            data[inp.name] = str(next(p.user.pk for p in w.people if p.label == person))
        elif inp.kind == "case":
            data[inp.name] = [w.duplicate.tracking_code]
        elif inp.kind == "photos":
            photos = [PhotoUpload("a.jpg", jpeg())]
        elif inp.kind == "files":
            files = [Upload("a.txt", b"MX7")]
        elif inp.name == "request":
            data[inp.name] = str(pending[0].pk) if pending else "1"
        elif inp.name == "document":  # one of the case's documents, when it has one
            doc = case.documents.order_by("id").first()
            if doc is not None:
                data[inp.name] = str(doc.pk)
        elif inp.name == "party" and inp.kind == "choice":  # one of the case's parties (a delivery's)
            party = case.parties.order_by("id").first()
            if party is not None:
                data[inp.name] = str(party.pk)
        elif inp.name == "decision":
            data[inp.name] = "approve"
        elif inp.name == "kind" and inp.choices and inp.choices[0][0] in ApprovalRequest.Kind.values:
            waiting = {r.kind for r in pending}
            data[inp.name] = next((v for v, _l in inp.choices if v not in waiting), "extension")
        elif inp.kind == "choice" and inp.choices and inp.name not in ("valid", "unit"):
            data[inp.name] = str(inp.choices[0][0])
    if department and "co_departments" in data and "department" in data:
        data["co_departments"] = []  # the lead names the target; no co-handling unit besides
    return data, photos, files


def _accepted(user: Any, case: Any, action: str, data: dict[str, Any], photos: list[Any], files: list[Any]) -> str:
    """'' when the one way in accepts the action (then undone), else the refusal."""
    from django.db import transaction

    from civicgrid.cases.rules import case_act

    class Undo(Exception):
        pass

    try:
        with transaction.atomic():
            case_act(actor=user, case=fresh(case), action=action, data=data, photos=photos, files=files)
            raise Undo
    except Undo:
        return ""
    except _refusals() as exc:
        return f"{type(exc).__name__}: {exc}"


def test_case_actions_offers_exactly_what_the_one_way_in_accepts(actions_world: ActionWorld) -> None:
    from civicgrid.cases.rules import case_actions

    w = actions_world
    mismatches: list[str] = []
    people = [p for p in w.people if p.user is not None and (p.reaches or p.owns)]
    for case in w.cases:
        for who in people:
            offers = {o.name: o for o in case_actions(who.user, fresh(case))}
            for action, inputs in _declared(case):
                data, photos, files = _sample_input(case, inputs, w)
                refusal = _accepted(who.user, case, action, data, photos, files)
                offered = action in offers and not offers[action].refused
                if offered != (refusal == ""):
                    mismatches.append(f"{case.case_type}/{case.state} {who.label} {action}: "
                                      f"offered={offered}, service: {refusal or 'accepted'}")
    assert mismatches == [], "\n".join(mismatches)
    # the fixture exercises something: Alice may do several things on each case, the auditor nothing
    alice = next(p for p in w.people if p.label == "dispatcher@A")
    auditor = next(p for p in w.people if p.label == "auditor@A")
    assert all(case_actions(alice.user, c) for c in w.cases)
    assert not any(case_actions(auditor.user, c) for c in w.cases)


def _api_body(data: dict[str, Any], photos: list[Any], files: list[Any], inputs: tuple[Any, ...] = ()
              ) -> dict[str, Any]:
    import base64

    def b64(items: list[Any]) -> list[dict[str, str]]:
        return [{"name": u.name, "content_base64": base64.b64encode(u.content).decode()} for u in items]

    # uploads under their input's name (a delivery's proof), else the engine's own names
    photos_at = next((i.name for i in inputs if i.kind == "photos"), "photos")
    files_at = next((i.name for i in inputs if i.kind == "files"), "files")
    return {**data, photos_at: b64(photos), files_at: b64(files)}


WRONG_ROLE_ORDER = ("grid_worker", "mediator", "department_handler", "dispatcher", "leader", "auditor", "admin")


def _wrong_role(w: ActionWorld, case: Any, allowed: frozenset[str]) -> Principal | None:
    """A person of district A who sees the case but whose role the declaration does not allow."""
    from civicgrid.cases.selectors import cases_visible

    for role in WRONG_ROLE_ORDER:
        if role in allowed:
            continue
        who = next(p for p in w.people if p.label == f"{role}@A")
        if cases_visible(user=who.user).filter(pk=case.pk).exists():
            return who
    return None


def _action_cases() -> list[tuple[str, str]]:
    from civicgrid.cases import registry
    from civicgrid.cases.testing import DRILL, TASK
    from civicgrid.events.workflow import build_event_type

    out = []
    for ctype in (build_event_type(), DRILL, TASK):
        out += [(ctype.code, t) for t in ctype.transitions]
        out += [(ctype.code, g) for g in registry.GENERIC_ACTIONS]
    return out


def _refused_everywhere(w: ActionWorld, type_code: str, action: str) -> list[str]:
    """The problems of one action: refused to an outsider, a wrong role and a foreign target through
    the service façade and the API, accepted from the right role with the same input (undone)."""
    from django.db import transaction

    from civicgrid.cases import registry
    from civicgrid.cases.rules import case_act, case_actions

    admin = next(p for p in w.people if p.label == "admin@A")
    case = next((c for c in w.cases if c.case_type == type_code
                 and any(o.name == action and not o.refused for o in case_actions(admin.user, fresh(c)))), None)
    if case is None:
        return [f"{type_code}.{action}: no case of the fixture allows it (add one)"]
    ctype = registry.of(case)
    allowed = ctype.transitions[action].roles if action in ctype.transitions else ctype.generic.of(action)
    inputs = dict(_declared(case))[action]
    data, photos, files = _sample_input(case, inputs, w)
    url = f"/api/v1/cases/{case.pk}/actions/{action}"
    before = (fresh(case).state, fresh(case).version)
    problems: list[str] = []

    def service(who: Principal, body: dict[str, Any], expected: type[BaseException], label: str) -> None:
        refusal = _accepted(who.user, case, action, body, photos, files)
        if not refusal.startswith((expected.__name__, "OutOfScope" if expected.__name__ == "Http404" else "-")):
            problems.append(f"{type_code}.{action} service, {label} {who.label}: {refusal or 'accepted'}")

    def api(who: Principal, body: dict[str, Any], expected: tuple[int, ...], label: str) -> None:
        answer = who.client.post(url, _api_body(body, photos, files, inputs), content_type="application/json")
        if answer.status_code not in expected:
            problems.append(f"{type_code}.{action} API, {label} {who.label}: {answer.status_code}")

    from django.http import Http404

    from civicgrid.cases.errors import TransitionRefused

    outsider = next(p for p in w.people if p.label == "dispatcher@B")
    service(outsider, data, Http404, "outsider")
    api(outsider, data, (404,), "outsider")
    api(next(p for p in w.people if p.user is None), data, (401, 403), "anonymous")
    wrong = _wrong_role(w, case, allowed)
    if wrong is None:
        problems.append(f"{type_code}.{action}: every role of district A that sees the case may do it")
    else:
        service(wrong, data, TransitionRefused, "wrong role")
        api(wrong, data, (403,), "wrong role")
    if any(i.kind in ("department", "departments") for i in inputs):
        foreign, _p, _f = _sample_input(case, inputs, w, department=B_DEPARTMENT)
        service(admin, foreign, Http404, "foreign target,")
        api(admin, foreign, (404,), "foreign target,")
    if any(i.kind == "person" for i in inputs):
        for label in ("mediator@B", "grid_worker@A"):  # another district's; a role the input does not name
            foreign, _p, _f = _sample_input(case, inputs, w, person=label)
            service(admin, foreign, Http404, f"foreign person {label},")
            api(admin, foreign, (404,), f"foreign person {label},")
    if (fresh(case).state, fresh(case).version) != before:
        problems.append(f"{type_code}.{action}: a refusal changed the case")

    class Undo(Exception):
        pass

    try:
        with transaction.atomic():
            done = admin.client.post(url, _api_body(data, photos, files, inputs), content_type="application/json")
            if done.status_code != 200:
                problems.append(f"{type_code}.{action} API, the right role: {done.status_code} {done.content!r}")
            raise Undo
    except Undo:
        pass
    try:
        with transaction.atomic():
            case_act(actor=admin.user, case=fresh(case), action=action, data=data, photos=photos, files=files)
            raise Undo
    except Undo:
        pass
    return problems


def test_each_action_is_refused_to_an_outsider_a_wrong_role_and_a_foreign_target_through_every_interface(
        actions_world: ActionWorld) -> None:
    problems: list[str] = []
    actions = _action_cases()
    assert len(actions) > 45  # the three types' transitions and every generic action
    for type_code, action in actions:
        problems += _refused_everywhere(actions_world, type_code, action)
    assert problems == [], "\n".join(problems)
