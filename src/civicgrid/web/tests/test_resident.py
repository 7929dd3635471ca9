"""The resident's pages: report with a pin, a photo, anonymously; follow by tracking code; rate."""

from __future__ import annotations

import io

import pytest

from civicgrid.cases.models import Case, Rating
from civicgrid.web.tests.conftest import BIN, POINT_A, client_for, jpeg, reported, secret_of, walk

pytestmark = pytest.mark.django_db


def form(**over):
    data = {"text": "小区门口垃圾箱破损，垃圾散落一地", "category": BIN, "lon": str(POINT_A[0]),
            "lat": str(POINT_A[1]), "address": "幸福路1号", "reporter_name": "张三", "reporter_phone": "13800138000"}
    data.update(over)
    return data


def photo(name="p.jpg", **kw):
    f = io.BytesIO(jpeg(**kw))
    f.name = name
    return f


def test_a_visitor_reports_with_a_pin_and_a_photo_and_gets_the_tracking_page(world):
    response = client_for().post("/report/", {**form(), "photos": photo()})
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/track/{case.tracking_code}/?new=1"
    assert case.channel == "resident" and case.grid.code == "440301001001001" and case.category.code == BIN
    assert len(case.event.photos) == 1 and case.reporter_phone == "13800138000"
    page = client_for().get(response["Location"]).content.decode()
    assert case.tracking_code in page and 'id="new-report"' in page


def test_an_anonymous_report_keeps_no_name_or_phone(world):
    client_for().post("/report/", form(anonymous="on"))
    case = Case.objects.get()
    assert case.anonymous and case.reporter_name == "" and case.reporter_phone == ""


def test_a_report_without_a_description_is_refused_next_to_the_field(world):
    response = client_for().post("/report/", form(text=""))
    assert response.status_code == 422
    html = response.content.decode()
    assert ('id="id_text"' in html and "Describe the problem." in html) or "描述" in html
    assert Case.objects.count() == 0


def test_a_bad_phone_and_a_half_pin_are_named_and_nothing_is_written(world):
    response = client_for(lang="en").post("/report/", form(reporter_phone="12", lat=""))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Give both longitude and latitude, or neither." in html
    assert Case.objects.count() == 0


def test_a_file_that_is_not_a_photo_is_refused(world):
    bad = io.BytesIO(b"not an image")
    bad.name = "x.jpg"
    response = client_for(lang="en").post("/report/", {**form(), "photos": bad})
    assert response.status_code == 422 and "not a readable image" in response.content.decode()


def test_a_retried_report_with_the_same_key_makes_one_event(world):
    c = client_for()
    first = c.post("/report/", form(idempotency_key="k-123"))
    again = c.post("/report/", form(idempotency_key="k-123"))
    assert first["Location"] == again["Location"]
    assert Case.objects.count() == 1
    other_browser = client_for().post("/report/", form(idempotency_key="k-123"))  # the service's own key check
    assert other_browser.status_code == 302 and Case.objects.count() == 1


def test_the_suggestion_fragment_answers_without_a_model(world):
    response = client_for().get("/report/suggest/", {"text": "垃圾箱破损了"})
    assert response.status_code == 200 and b"suggestion-box" in response.content


def _train(labels: dict[str, tuple[str, ...]]) -> None:
    from civicgrid.dispatch.services import model_train

    texts = {"垃圾箱": ["小区门口垃圾箱破损", "路边垃圾箱坏了", "垃圾箱盖子掉了", "垃圾箱满了没人清"],
             "广告牌": ["广告牌匾歪了要掉", "店招牌匾破损", "广告牌被风吹坏", "牌匾字掉了"],
             "路灯": ["路灯不亮了", "小区路灯坏了", "路灯一直闪", "晚上路灯全灭"]}
    titles, bodies, rows = [], [], []
    for word, variants in texts.items():
        for i in range(6):
            for text in variants:
                titles.append(text)
                bodies.append(f"{text}，第{i}次反映，请尽快处理")
                rows.append(labels[word])
    model_train(actor=None, titles=titles, bodies=bodies, labels=rows, source="page test")


def test_a_suggested_category_can_be_taken_with_one_click(world):
    _train({"垃圾箱": ("C03", "C0301"), "广告牌": ("C03", "C0303"), "路灯": ("C01", "C0101")})
    html = client_for().get("/report/suggest/", {"text": "小区门口垃圾箱坏了"}).content.decode()
    assert 'data-set-category="C0301"' in html and "垃圾箱" in html


def test_a_suggested_top_level_class_names_the_group_to_choose_in_and_offers_no_button(world):
    # a top-level class is a group of the category list, not one of its choices
    _train({"垃圾箱": ("C03",), "广告牌": ("C03",), "路灯": ("C01",)})
    html = client_for().get("/report/suggest/", {"text": "小区门口垃圾箱坏了"}).content.decode()
    assert "data-set-category" not in html
    assert "可能属于分组" in html and "市容环境（部件）" in html


def test_tracking_shows_the_public_timeline_without_staff_names(world, units):
    case = walk(reported(), world, units, "replied")
    html = client_for().get(f"/track/{case.tracking_code}/").content.decode()
    assert "垃圾箱已更换，感谢您的反映" in html  # the reply to the reporter
    assert "Alice" not in html and "Dana" not in html and "已更换" not in html.replace("垃圾箱已更换", "")
    assert 'id="rate"' in html


def test_an_unknown_tracking_code_is_not_found(world):
    assert client_for().get("/track/NOSUCHCODE/").status_code == 404
    assert client_for().get("/track/", {"code": "abc"})["Location"] == "/track/ABC/"


def test_the_reporter_rates_once_after_the_reply(world, units):
    case = walk(reported(), world, units, "replied")
    url = f"/track/{case.tracking_code}/rate/"
    secret = secret_of(case)
    assert client_for().post(url, {"satisfaction": "satisfied", "comment": "很快", "secret": secret}).status_code == 302
    assert Rating.objects.get(case=case).satisfaction == "satisfied"
    again = client_for(lang="en").post(url, {"satisfaction": "satisfied", "secret": secret})
    assert again.status_code == 409 and "rated already" in again.content.decode()


def test_a_rating_before_the_reply_or_with_a_bad_value_is_refused(world, units):
    case = walk(reported(), world, units, "closed")
    secret = secret_of(case)
    early = client_for(lang="en").post(f"/track/{case.tracking_code}/rate/",
                                       {"satisfaction": "satisfied", "secret": secret})
    assert early.status_code == 422 and "once you have received the reply" in early.content.decode()
    case = walk(case, world, units, "replied")
    bad = client_for().post(f"/track/{case.tracking_code}/rate/", {"satisfaction": "ecstatic", "secret": secret})
    assert bad.status_code == 422 and Rating.objects.count() == 0
    assert client_for().post("/track/NOSUCH/rate/", {"satisfaction": "basic"}).status_code == 404


def test_the_tracking_code_alone_does_not_rate_and_the_form_asks_for_the_secret(world, units):
    case = walk(reported(), world, units, "replied")
    page = client_for(lang="en").get(f"/track/{case.tracking_code}/").content.decode()
    assert 'name="secret"' in page
    refused = client_for(lang="en").post(f"/track/{case.tracking_code}/rate/",
                                         {"satisfaction": "unsatisfied", "comment": "没修好", "secret": "WXYZ-2345"})
    html = refused.content.decode()
    assert refused.status_code == 403 and "give the rating secret you received with the tracking code" in html
    assert "没修好" in html  # what was typed is kept
    stored = Case.objects.get(pk=case.pk)
    assert (stored.state, stored.reopen_count, Rating.objects.count()) == ("replied", 0, 0)


def test_the_thank_you_page_shows_the_rating_secret_once_and_it_rates(world, units):
    visitor = client_for(lang="en")
    response = visitor.post("/report/", form())
    case = Case.objects.get()
    page = visitor.get(response["Location"])
    html = page.content.decode()
    start = html.index('id="rating-secret">') + len('id="rating-secret">')
    secret = html[start:html.index("<", start)]
    assert len(secret) == 9 and "rating secret" in html and page["Cache-Control"] == "no-store"
    assert 'id="rating-secret"' not in visitor.get(response["Location"]).content.decode()  # once
    walk(case, world, units, "replied")
    assert visitor.post(f"/track/{case.tracking_code}/rate/",
                        {"satisfaction": "basic", "secret": secret}).status_code == 302
    assert Rating.objects.get(case=case).source == "resident"


def test_a_resident_who_reported_signed_in_rates_without_the_secret(world, units):
    rita = client_for(units.rita, lang="en")
    rita.post("/report/", form())
    case = walk(Case.objects.get(), world, units, "replied")
    page = rita.get(f"/track/{case.tracking_code}/").content.decode()
    assert 'name="secret"' not in page and "no rating secret is needed" in page
    assert rita.post(f"/track/{case.tracking_code}/rate/", {"satisfaction": "satisfied"}).status_code == 302
    assert Rating.objects.get(case=case).by == units.rita


def test_an_unsatisfied_rating_asks_for_a_verifying_call_and_reopens_nothing(world, units):
    case = walk(reported(), world, units, "replied")
    resident = client_for()
    answer = resident.post(f"/track/{case.tracking_code}/rate/", {"satisfaction": "unsatisfied", "comment": "没修好",
                                                                 "secret": secret_of(case)}, follow=True)
    assert Case.objects.get(pk=case.pk).state == "replied"  # only the centre's follow-up call reopens
    told = answer.content.decode()  # the resident is told (in Chinese once the lead compiles the catalogue)
    assert "中心将致电与您核实处理结果。" in told or "The centre will call you to check the result" in told
    # the centre's timeline says who rated and how; the public one the rating given
    staff = client_for(world.alice).get(f"/cases/{case.tracking_code}/").content.decode()
    assert "<b>报告人</b> 已评价：不满意" in staff[staff.index('id="timeline"'):]
    assert "已评价：不满意" in answer.content.decode()


def test_the_public_pages_are_rate_limited(world, settings):
    from django.core.cache import cache

    cache.clear()
    settings.CIVICGRID_RATE_PUBLIC_PER_MINUTE = 2
    c = client_for()
    assert [c.get("/track/NOSUCH/").status_code for _ in range(2)] == [404, 404]
    limited = c.get("/track/NOSUCH/")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    cache.clear()
