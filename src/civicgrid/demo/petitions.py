"""Demo petitions (信访) for the demo city: the first district's petition office (信访局) with its
clerk (login ``d1_petitions``), and a dozen petitions in the states of the declaration — received
and registered, routed, accepted, replied with its delivery, under review and re-review, final, led
to litigation, a routed accusation, a repeat and a 不再受理 answer — worked through the engine's one
way in (``rules.case_act``), dated in the past so that their clocks run now. The city ``leader``
owns one (领导包案)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.documents import document_upload
from civicgrid.cases.models import Case
from civicgrid.cases.rules import case_act
from civicgrid.cases.services import Location
from civicgrid.core.inputs import Upload
from civicgrid.geo.models import Level, Region
from civicgrid.org.models import Department, Role, User
from civicgrid.org.services import department_create, membership_grant, user_create
from civicgrid.petitions import services as ps

OFFICE_LOGIN = "d1_petitions"

# (title, kind, matter, anonymous, the steps taken: (action, data))
PETITIONS: tuple[tuple[str, str, str, bool, tuple[str, ...]], ...] = (
    ("反映小区违建未拆除", "claim", "小区违建", False, ()),
    ("建议增设公交站点", "suggestion", "增设公交站点", False, ("route",)),
    ("反映某公司拖欠工资", "claim", "拖欠工资", False, ("route", "accept")),
    ("举报市场监管人员吃拿卡要", "accusation", "吃拿卡要", True, ("route", "accept")),
    ("反映拆迁补偿不到位", "claim", "拆迁补偿", False, ("route", "accept", "reply", "deliver")),
    ("反映物业费收取不合理", "claim", "物业收费", False,
     ("route", "accept", "reply", "deliver", "request_review")),
    ("反映噪音扰民长期未解决", "claim", "噪音扰民", False,
     ("route", "accept", "reply", "deliver", "request_review", "decide_review", "deliver", "request_rereview")),
    ("反映宅基地确权争议", "claim", "宅基地确权", False,
     ("route", "accept", "reply", "deliver", "request_review", "decide_review", "deliver", "request_rereview",
      "decide_rereview")),
    ("要求撤销劳动合同纠纷裁决", "claim", "劳动合同", False, ("lead_to_channel",)),
    ("建议改善老旧小区照明", "suggestion", "老旧小区照明", False, ("route", "accept", "answer")),
)


def demo_petitions_load(*, city: Region, say: Callable[[str], None] | None = None) -> int:
    """The first district's petition office, its clerk and a dozen petitions (nothing when the city
    has petitions already, or has no district with urban-management and water departments)."""
    say = say or (lambda m: None)
    if Case.objects.filter(case_type="petition", city=city).exists():
        return 0
    district = Region.objects.filter(city=city, level=Level.DISTRICT, is_active=True).order_by("code").first()
    if district is None:
        return 0
    units = {d.function: d for d in Department.objects.filter(region=district, function__in=("urban_management",
                                                                                            "water", "housing"))}
    if len(units) < 3:
        return 0
    handler = {f: User.objects.filter(memberships__department=units[f], memberships__is_active=True,
                                      memberships__role=Role.DEPARTMENT_HANDLER).first() for f in units}
    grids = list(Region.objects.filter(level=Level.GRID, district=district).order_by("code")[:10])
    leader = User.objects.filter(username="leader").first()
    now = timezone.now().replace(microsecond=0)
    from civicgrid.demo.services import DEMO_PASSWORD

    with transaction.atomic():
        office = department_create(actor=None, code=f"{district.code}-petitions", name=f"{district.name}信访局",
                                   region=district, function="petitions", service_regions=[district])
        clerk = User.objects.filter(username=OFFICE_LOGIN).first() or user_create(
            actor=None, username=OFFICE_LOGIN, password=DEMO_PASSWORD, display_name=f"{district.name}信访局接待员")
        membership_grant(actor=None, user=clerk, role=Role.DEPARTMENT_HANDLER, department=office)
        for f, dept in units.items():  # every unit has someone to act for it
            if handler[f] is None:
                handler[f] = user_create(actor=None, username=f"d1_{f}", password=DEMO_PASSWORD,
                                         display_name=f"{dept.name}办事员")
                membership_grant(actor=None, user=handler[f], role=Role.DEPARTMENT_HANDLER, department=dept)
        ps.templates_install(actor=None)
        n = 0
        for i, (title, kind, matter, anonymous, steps) in enumerate(PETITIONS):
            when = now - dt.timedelta(days=3 * (len(PETITIONS) - i) + 2)
            grid = grids[i % len(grids)] if grids else None
            petitioner = (ps.Person() if anonymous else
                          ps.Person(name=f"演示信访人{i + 1}", phone=f"1390000{i:04d}",
                                    address=f"{district.name}演示路{i + 1}号"))
            case = ps.petition_receive(actor=clerk, office=office, now=when, petition=ps.Petition(
                kind=kind, title=title, text=f"{title}，请求有关部门依法处理。", matter=matter,
                form=("visit", "letter", "online", "phone")[i % 4], petitioner=petitioner, anonymous=anonymous,
                accused_department=units["housing"] if kind == "accusation" else None,
                location=Location(region=grid) if grid else None))
            t = when
            lead = "urban_management"
            for step in steps:
                t += dt.timedelta(hours=20)
                if step == "deliver":
                    doc = document_upload(actor=handler[lead], case=case, kind="decision", title=_("written answer"),
                                          files=[Upload(name="answer.pdf", content=b"%PDF-1.4 demo")], now=t)[0]
                    ps.notice_delivered(actor=handler[lead], case=case, document=doc.document, party_name="信访人",
                                        method="in_person", delivered_at=t, now=t)
                    continue
                data: dict[str, str] = {}
                actor = handler[lead]
                if step in ("route", "request_review", "request_rereview", "lead_to_channel"):
                    actor = clerk
                if step == "route":
                    data = {"unit": units[lead].code}
                elif step in ("request_review", "request_rereview"):
                    lead = "water" if step == "request_review" else "urban_management"
                    data = {"unit": units[lead].code, "reason": "信访人不服"}
                elif step == "lead_to_channel":
                    data = {"channel": "arbitration", "reason": "属劳动争议仲裁事项"}
                elif step in ("reply", "answer", "decide_review", "decide_rereview"):
                    data = {"note": "经调查核实，依法作出处理意见。"}
                case = case_act(actor=actor, case=case, action=step, data=data, now=t)
            if i == 2 and leader is not None:
                case = case_act(actor=clerk, case=case, action="assign_leader", data={"leader": str(leader.pk)},
                                now=t)
            n += 1
        # a repeat of the first one, and the same matter as the final re-review (不再受理)
        first = PETITIONS[0]
        ps.petition_receive(actor=clerk, office=office, now=now - dt.timedelta(hours=5), petition=ps.Petition(
            kind="claim", title=first[0], matter=first[2], petitioner=ps.Person(
                name="演示信访人1", phone="13900000000", address=f"{district.name}演示路1号"),
            location=Location(region=grids[0]) if grids else None))
        final = PETITIONS[7]
        ps.petition_receive(actor=clerk, office=office, now=now - dt.timedelta(hours=4), petition=ps.Petition(
            kind="claim", title=final[0], matter=final[2], petitioner=ps.Person(
                name="演示信访人8", phone="13900000007", address=f"{district.name}演示路8号"),
            location=Location(region=grids[7 % len(grids)]) if grids else None))
        n += 2
    say(_("%(n)d petitions at %(office)s (login %(login)s)") % {"n": n, "office": office.name,
                                                                 "login": OFFICE_LOGIN})
    return n
