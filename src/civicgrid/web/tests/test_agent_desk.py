"""The 12345 desk does not lose calls (issue 14): an enquiry without a place is answered and closed by
the agent's own centre; a refused call comes back with everything typed; a created call lands on a
page the agent can see, with the code to read out; the agent names the department when none is
suggested; the request type is chosen, never defaulted; and the caller look-up (issue 13) sends the
phone number in a POST body and is audited without the number."""

from __future__ import annotations

import pytest

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import Case
from civicgrid.cases.selectors import cases_visible
from civicgrid.org.models import Role
from civicgrid.org.services import department_create, membership_grant, user_create
from civicgrid.web.tests.conftest import BIN, POINT_A, POINT_B, client_for, reported

pytestmark = pytest.mark.django_db

STREET_A = "440301001"  # Alice's street


def colleague(world, username: str = "amy", street: str = STREET_A, role: str = Role.DISPATCHER):
    user = user_create(actor=None, username=username, password="Correct-Horse-42", display_name=username)
    membership_grant(actor=None, user=user, role=role, region=world.city.get(street))
    return user


def city_agent(world):
    user = user_create(actor=None, username="cathy", password="Correct-Horse-42", display_name="Cathy")
    membership_grant(actor=None, user=user, role=Role.DISPATCHER, region=world.city.city)
    return user


def call(**fields):
    data = {"reporter_phone": "13800138000", "reporter_name": "王先生", "request_type": "enquiry",
            "text": "请问垃圾分类的投放时间是几点", "then": "create"}
    data.update(fields)
    return data


def form_of(response) -> str:
    html = response.content.decode()
    return html[html.index('id="call-form"'):]


# --- 1. an enquiry without a place ------------------------------------------------------------


def test_a_street_agent_answers_and_closes_an_enquiry_given_no_location(world):
    response = client_for(world.alice).post("/agent/", call(then="answer", answer="每天7点到9点、18点到20点"),
                                            follow=True)
    case = Case.objects.get()
    assert response.status_code == 200 and case.state == "answered"
    # owned by the agent's centre (it has no place of its own), and the agent is told its code
    street = world.city.get(STREET_A)
    assert case.owner_region == street and case.street == street and case.grid is None
    assert case.tracking_code in response.content.decode()


def test_a_district_agent_answers_an_enquiry_given_no_location_in_their_own_district(world):
    district_agent = colleague(world, "dora", street="440301")
    response = client_for(district_agent).post("/agent/", call(then="answer", answer="每天7点到9点"))
    case = Case.objects.get()
    assert response.status_code == 302 and case.state == "answered"
    assert case.owner_region == world.city.a and case.street is None


def test_a_refused_call_comes_back_with_everything_typed(world):
    # Alice may not register a case placed in district B: the page says so and keeps the call
    response = client_for(world.alice).post("/agent/", call(
        request_type="complaint", text="东区路灯不亮已经三天", category=BIN, address="乙区某路12号",
        lon=POINT_B[0], lat=POINT_B[1], then="dispatch", answer="已记录"))
    assert response.status_code in (403, 404, 422) and Case.objects.count() == 0
    form = form_of(response)
    for typed in ("13800138000", "王先生", "东区路灯不亮已经三天", "乙区某路12号", str(POINT_B[0]), "已记录"):
        assert typed in form
    assert 'value="complaint" selected' in form and f'value="{BIN}" selected' in form
    assert 'class="errorlist"' in form


# --- 2. a created call stays in sight -----------------------------------------------------------


def test_a_call_with_only_an_address_lands_on_a_page_showing_its_code(world):
    response = client_for(world.alice).post("/agent/", call(
        request_type="complaint", text="小区门口垃圾箱破损", address="长乐街道百合小区南门"), follow=True)
    case = Case.objects.get()
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/cases/{case.tracking_code}/"
    assert f"已创建：{case.tracking_code}。" in response.content.decode()


def test_a_call_placed_elsewhere_stays_visible_to_its_agent_and_their_centre(world):
    amy = colleague(world)  # Alice's colleague at the same centre
    other_street = colleague(world, "otto", street="440301002")  # another centre of district A
    response = client_for(world.alice).post("/agent/", call(
        request_type="complaint", text="乙区路灯不亮", lon=POINT_B[0], lat=POINT_B[1]), follow=True)
    case = Case.objects.get()
    assert response.status_code == 200 and case.tracking_code in response.content.decode()
    assert case.district == world.city.b  # placed where it is, handled there
    for user in (world.alice, amy, world.charlie):
        assert client_for(user).get(f"/cases/{case.tracking_code}/").status_code == 200
        assert cases_visible(user=user).filter(pk=case.pk).exists()
    assert client_for(other_street).get(f"/cases/{case.tracking_code}/").status_code == 404
    # seeing is not acting: registering stays with the centre where it is placed
    page = client_for(world.alice).get(f"/cases/{case.tracking_code}/").content.decode()
    assert "/act/register/" not in page
    assert client_for(world.alice).post(f"/cases/{case.tracking_code}/act/register/").status_code == 404


def test_a_grid_worker_of_the_centre_does_not_see_the_centre_s_calls_elsewhere(world):
    client_for(world.alice).post("/agent/", call(request_type="complaint", text="乙区路灯不亮",
                                                 lon=POINT_B[0], lat=POINT_B[1]))
    case = Case.objects.get()
    assert not cases_visible(user=world.bob).filter(pk=case.pk).exists()


# --- 3. the department field ------------------------------------------------------------------


def test_the_city_agent_names_the_department_when_none_is_suggested(world, units):
    cathy = city_agent(world)
    page = client_for(cathy).get("/agent/").content.decode()
    assert 'id="id_department"' in page and f'value="{units.urban.code}"' in page
    response = client_for(cathy).post("/agent/", call(
        request_type="complaint", text="垃圾箱破损", category=BIN, address="某街道某小区", then="dispatch",
        department=units.urban.code), follow=True)
    case = Case.objects.get()
    assert response.status_code == 200 and case.state == "dispatched" and case.lead_department == units.urban


def test_without_a_suggestion_or_a_department_the_department_field_is_named(world, units):
    cathy = city_agent(world)
    response = client_for(cathy).post("/agent/", call(
        request_type="complaint", text="垃圾箱破损", category=BIN, address="某街道某小区", then="dispatch"))
    assert response.status_code == 422 and Case.objects.count() == 0
    form = form_of(response)
    after_field = form[form.index('id="id_department"'):]
    assert "请指定部门" in after_field[:after_field.index("</select>") + 300]
    assert "区域" not in form[:form.index('id="id_department"')]  # the desk has no region to give


def test_the_department_list_holds_only_departments_in_the_agent_s_reach(world, units):
    department_create(actor=None, code="440302-cg", name="乙区城管局", region=world.city.b,
                      function="urban_management")
    page = client_for(world.alice).get("/agent/").content.decode()
    assert units.urban.code in page and "440302-cg" not in page
    response = client_for(world.alice).post("/agent/", call(
        request_type="complaint", text="垃圾箱破损", category=BIN, lon=POINT_A[0], lat=POINT_A[1], then="dispatch",
        department="440302-cg"))
    assert response.status_code == 422 and Case.objects.count() == 0
    assert "440302-cg" not in form_of(response).split('id="id_department"')[1].split("</select>")[0]


# --- 4. the request type and the knowledge base ----------------------------------------------------


def test_the_request_type_must_be_chosen(world):
    page = client_for(world.alice).get("/agent/").content.decode()
    select = page[page.index('id="id_request_type"'):]
    select = select[:select.index("</select>")]
    assert '<option value="" selected>' in select and " selected" not in select.split('value="" selected>', 1)[1]
    response = client_for(world.alice, lang="en").post("/agent/", call(request_type="", then="answer",
                                                                         answer="每天7点到9点"))
    assert response.status_code == 422 and Case.objects.count() == 0
    form = form_of(response)
    assert "Choose the request type" in form and "请问垃圾分类的投放时间是几点" in form


def test_the_knowledge_base_shows_the_answer_given_in_full(world):
    long_answer = "居住证办理请携带身份证原件、租房合同和近期照片，到社区服务中心窗口办理，" * 4
    client_for(world.alice).post("/agent/", call(text="居住证办理需要带哪些材料", then="answer",
                                                 answer=long_answer))
    html = client_for(world.alice).get("/agent/answers/", {"q": "居住证"}).content.decode()
    assert long_answer.strip() in html


def test_the_demo_answers_each_enquiry_with_its_own_answer():
    from civicgrid.demo.events import ENQUIRIES

    assert len(set(ENQUIRIES.values())) == len(ENQUIRIES)
    assert all(len(answer) > 15 and "知识库" not in answer for answer in ENQUIRIES.values())


# --- 5. the caller look-up (issue 13, Low) -----------------------------------------------------


def test_the_caller_look_up_is_a_post_and_the_number_never_reaches_a_url(world):
    mine = reported(phone="13900001111")
    page = client_for(world.alice).get("/agent/").content.decode()
    caller_form = page[page.rindex("<form", 0, page.index('id="caller-form"')):]
    caller_form = caller_form[:caller_form.index("</form>")]
    assert 'method="post"' in caller_form and 'hx-post="/agent/caller/"' in caller_form
    assert 'name="phone"' not in page[page.index('id="kb-form"'):].split("</form>")[0]
    response = client_for(world.alice).post("/agent/caller/", {"phone": "139 0000 1111"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and mine.tracking_code in response.content.decode()
    # the old GET no longer looks anyone up
    assert mine.tracking_code not in client_for(world.alice).get("/agent/", {"phone": "13900001111"}).content.decode()


def test_the_caller_look_up_is_audited_without_the_number(world):
    reported(phone="13900001111")
    client_for(world.alice).post("/agent/caller/", {"phone": "13900001111"}, HTTP_HX_REQUEST="true")
    entry = AuditEntry.objects.get(action="events.caller_lookup")
    assert entry.actor == world.alice
    row = str([entry.target_repr, entry.target_id, entry.before, entry.after, entry.extra])
    assert "13900001111" not in row and "1111" in row  # masked: the last digits only
    assert entry.extra["found"] == 1


def test_the_caller_look_up_is_for_the_centre_only(world, units):
    assert client_for(world.bob).post("/agent/caller/", {"phone": "13900001111"}).status_code == 403
    assert client_for().post("/agent/caller/", {"phone": "13900001111"}).status_code == 302  # sign in first
    assert not AuditEntry.objects.filter(action="events.caller_lookup").exists()


def test_a_bad_number_in_the_look_up_is_named_and_not_audited(world):
    html = client_for(world.alice, lang="en").post("/agent/caller/", {"phone": "12"},
                                                   HTTP_HX_REQUEST="true").content.decode()
    assert "errorlist" in html and 'id="earlier"' not in html
    assert not AuditEntry.objects.filter(action="events.caller_lookup").exists()


# --- 5. one way in: the engine's façade and its targets -------------------------------------------


def test_the_desk_answers_registers_and_dispatches_through_the_engine_s_one_way_in(world, units, monkeypatch):
    from civicgrid.cases import rules
    from civicgrid.web.views import work

    done = []

    def spy(**kw):
        done.append(kw["action"])
        return rules.case_act(**kw)

    monkeypatch.setattr(work, "case_act_rule", spy, raising=False)
    cathy = city_agent(world)
    dispatched = client_for(cathy).post("/agent/", call(
        request_type="complaint", text="垃圾箱破损", category=BIN, address="某街道某小区", then="dispatch",
        department=units.urban.code))
    assert dispatched.status_code == 302 and done == ["register", "dispatch"]
    assert Case.objects.get().lead_department == units.urban
    answered = client_for(world.alice).post("/agent/", call(then="answer", answer="每天晚上七点到九点"))
    assert answered.status_code == 302 and done == ["register", "dispatch", "answer"]
    assert Case.objects.filter(state="answered").count() == 1


def test_a_department_not_serving_the_call_s_place_is_refused_on_its_field(world, units):
    department_create(actor=None, code="440302-cg", name="乙区城管局", region=world.city.b,
                      function="urban_management")
    cathy = city_agent(world)  # sees every district's departments
    assert "440302-cg" in client_for(cathy).get("/agent/").content.decode()
    response = client_for(cathy).post("/agent/", call(
        request_type="complaint", text="垃圾箱破损", category=BIN, lon=POINT_A[0], lat=POINT_A[1], then="dispatch",
        department="440302-cg"))
    assert response.status_code == 422 and Case.objects.count() == 0
    form = form_of(response)
    after_field = form[form.index('id="id_department"'):]
    assert "请从列表中选择部门" in after_field[:after_field.index("</select>") + 300]
    assert "不在本中心辖区内" not in form

