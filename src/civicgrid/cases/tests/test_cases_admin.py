"""The case engine's admin: cases read-only and scoped by jurisdiction (Alice sees her street, Charlie
gets 404 for district A), reporters masked, and the working calendar kept through its services by
superusers and city administrators, with the missing-year warning."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import Supervision
from civicgrid.cases.services import case_supervise, case_transition
from civicgrid.cases.tests.conftest import POINT_B, at, drill_create
from civicgrid.notify.models import Notification
from civicgrid.org.models import Role, User
from civicgrid.org.services import membership_grant, user_create
from civicgrid.workcal.models import CalendarYear, WorkingDay

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
CASE_PERMS = ("cases.view_case", "notify.view_notification", "cases.view_supervision")


def allow(user: User, *perms: str) -> User:
    """Django model permissions open the admin's doors (roles bring them in production, see the
    lead's note in the report); jurisdiction decides what is behind them."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    User.objects.filter(pk=user.pk).update(is_staff=True)
    return User.objects.get(pk=user.pk)


@pytest.fixture
def staff(cast: Any) -> Any:
    cast.alice = allow(cast.alice, *CASE_PERMS)
    cast.charlie = allow(cast.charlie, *CASE_PERMS)
    return cast


@pytest.fixture
def two_cases(staff: Any) -> dict[str, Any]:
    a = drill_create(None, reporter_name="张三丰", reporter_phone=PHONE, title="井盖缺失")
    case_transition(actor=staff.alice, case=a, action="reject", reason="重复上报", now=at(2024, 9, 23, 11))
    b = drill_create(None, point=POINT_B, title="路灯不亮")
    case_supervise(actor=staff.charlie, case=b, note="请尽快")
    return {"a": a, "b": b}


def login(client: Any, user: User) -> Any:
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the assertions read English msgids
    return client


def listed(response: Any) -> set[str]:
    return {obj.tracking_code for obj in response.context["cl"].queryset}


# --- cases -------------------------------------------------------------------------------------


def test_alice_sees_only_the_cases_of_her_jurisdiction(client, staff, two_cases):
    response = login(client, staff.alice).get("/admin/cases/case/")
    assert response.status_code == 200
    assert listed(response) == {two_cases["a"].tracking_code}


def test_charlie_gets_404_for_a_case_of_district_a(client, staff, two_cases):
    response = login(client, staff.charlie).get(f"/admin/cases/case/{two_cases['a'].pk}/change/")
    assert response.status_code == 404
    assert login(client, staff.charlie).get(f"/admin/cases/case/{two_cases['b'].pk}/change/").status_code == 200


def test_the_case_page_masks_the_reporter_and_shows_the_timeline_read_only(client, staff, two_cases):
    response = login(client, staff.alice).get(f"/admin/cases/case/{two_cases['a'].pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "138****8000" in html and PHONE not in html
    assert "张**" in html and "张三丰" not in html
    assert "重复上报" in html  # the reject step in the timeline
    assert 'name="_save"' not in html  # nothing to save: changes go through the engine


def test_nobody_adds_changes_or_deletes_a_case_in_the_admin(client, staff, two_cases, admin_user):
    c = login(client, admin_user)
    assert c.get("/admin/cases/case/add/").status_code == 403
    assert c.post(f"/admin/cases/case/{two_cases['a'].pk}/delete/", {"post": "yes"}).status_code == 403
    html = c.get(f"/admin/cases/case/{two_cases['a'].pk}/change/").content.decode()
    assert 'name="_save"' not in html and PHONE not in html


def test_the_case_list_searches_by_tracking_code(client, staff, two_cases):
    code = two_cases["a"].tracking_code
    response = login(client, staff.alice).get("/admin/cases/case/", {"q": code})
    assert listed(response) == {code}


# --- notifications and supervision -------------------------------------------------------------------


def test_notifications_and_supervision_items_are_scoped_read_only_lists(client, staff, two_cases):
    c = login(client, staff.alice)
    response = c.get("/admin/notify/notification/")
    assert response.status_code == 200
    cases = {n.case_id for n in response.context["cl"].queryset}
    assert two_cases["a"].pk in cases and two_cases["b"].pk not in cases
    assert c.get("/admin/cases/supervision/").context["cl"].queryset.count() == 0
    charlie = login(client, staff.charlie)
    items = charlie.get("/admin/cases/supervision/").context["cl"].queryset
    assert [s.case_id for s in items] == [two_cases["b"].pk]
    item = Supervision.objects.get(case=two_cases["b"])
    assert charlie.get(f"/admin/cases/supervision/{item.pk}/change/").status_code == 200
    assert login(client, staff.alice).get(f"/admin/cases/supervision/{item.pk}/change/").status_code == 404
    note = Notification.objects.filter(case=two_cases["a"]).first()
    assert note is not None
    assert c.post(f"/admin/notify/notification/{note.pk}/delete/", {"post": "yes"}).status_code == 403


# --- the working calendar -------------------------------------------------------------------------


@pytest.fixture
def carol(cast: Any) -> User:
    """An administrator of the city: she keeps the working calendar."""
    user = user_create(actor=None, username="carol", password="Correct-Horse-42", display_name="Carol")
    membership_grant(actor=None, user=user, role=Role.ADMIN, region=cast.city.city)
    return User.objects.get(pk=user.pk)


def test_the_calendar_list_warns_about_a_year_without_data(client, carol):
    next_year = timezone.localdate().year + 1
    CalendarYear.objects.filter(year=next_year).delete()
    response = login(client, carol).get("/admin/workcal/calendaryear/")
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any(f"no data for {next_year}" in m for m in shown)
    assert "2024" in response.content.decode()


def test_a_district_administrator_may_not_open_the_calendar(client, staff):
    assert login(client, staff.admin_a).get("/admin/workcal/calendaryear/").status_code == 403
    assert login(client, staff.alice).get("/admin/workcal/workingday/").status_code == 403


def test_a_year_entered_in_the_admin_goes_through_the_calendar_service(client, carol):
    WorkingDay.objects.filter(day__year=2027).delete()
    CalendarYear.objects.filter(year=2027).delete()
    upload = SimpleUploadedFile("2027.csv", "2027-01-01,休息,元旦\n2027-02-20,上班,调休\n".encode("gbk"))
    response = login(client, carol).post("/admin/workcal/calendaryear/add/", {"year": 2027, "file": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CalendarYear.objects.get(year=2027).source == "file 2027.csv"
    assert WorkingDay.objects.filter(day__year=2027).count() == 2
    assert AuditEntry.objects.filter(action="cases.calendar.year_set", actor=carol).exists()


def test_a_bad_line_in_an_uploaded_year_is_shown_and_nothing_is_written(client, carol):
    CalendarYear.objects.filter(year=2027).delete()
    upload = SimpleUploadedFile("2027.csv", b"2027-01-01,maybe,x\n")
    response = login(client, carol).post("/admin/workcal/calendaryear/add/", {"year": 2027, "file": upload})
    assert response.status_code == 200
    assert "line 1:" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_single_day_saved_in_the_admin_goes_through_the_calendar_service(client, carol):
    c = login(client, carol)
    response = c.post("/admin/workcal/workingday/add/", {"day": "2024-10-19", "is_working": "on", "name": "演练"})
    assert response.status_code == 302
    assert WorkingDay.objects.get(day=dt.date(2024, 10, 19)).is_working
    assert AuditEntry.objects.filter(action="cases.calendar.day_set", actor=carol).exists()
    ordinary = c.post("/admin/workcal/workingday/add/", {"day": "2024-10-21", "is_working": "on", "name": ""})
    assert ordinary.status_code == 200 and "anyway" in ordinary.content.decode()
    day = WorkingDay.objects.get(day=dt.date(2024, 10, 19))
    assert c.post(f"/admin/workcal/workingday/{day.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not WorkingDay.objects.filter(day=dt.date(2024, 10, 19)).exists()


def test_a_case_shows_its_links_read_only_and_never_one_to_a_case_out_of_the_users_reach(client, staff):
    from civicgrid.cases.services import case_link

    a = drill_create(None, title="井盖缺失")
    near = drill_create(None, title="相邻井盖")
    far = drill_create(None, point=POINT_B, title="乙区路灯机密")
    case_link(actor=None, case=a, other=near, note="同一路段")
    case_link(actor=None, case=a, other=far, note="乙区备注")
    page = login(client, staff.alice).get(f"/admin/cases/case/{a.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "links to other cases" in body.lower() and near.tracking_code in body and "同一路段" in body
    assert far.tracking_code not in body and "乙区路灯机密" not in body and "乙区备注" not in body
    assert 'name="links_out-0-note"' not in body  # read only: no form field
    # Charlie (district B) sees the link from his side, but not Alice's case behind it
    other = login(client, staff.charlie).get(f"/admin/cases/case/{far.pk}/change/").content.decode()
    assert a.tracking_code not in other and "乙区备注" not in other


def test_the_case_page_lists_the_parties_masked(client, staff, two_cases):
    from civicgrid.cases.services import party_add
    from civicgrid.privacy.validators import id_check_char

    id_number = "44030319851231002" + id_check_char("44030319851231002")
    party_add(actor=staff.alice, case=two_cases["a"], kind="respondent", name="李四", id_number=id_number,
              phone="13900139000", address="桂花路1号")
    html = login(client, staff.alice).get(f"/admin/cases/case/{two_cases['a'].pk}/change/").content.decode()
    assert "parties" in html.lower() and "respondent" in html and "reporter" in html
    assert "李*" in html and "139****9000" in html and "440303********" in html
    for plain in ("李四", "13900139000", id_number, "桂花路1号", PHONE, "张三丰"):
        assert plain not in html, plain
