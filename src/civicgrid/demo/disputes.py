"""Demo disputes (矛盾纠纷) for the demo city: mediation organisations of the mediator's street (its
communities' committees, the street's, the district's, a doctor-patient committee) and a dozen
disputes in every state of the declaration, worked by the demo ``mediator`` login through the
engine's one way in (``rules.case_act``) — so the mediator has a day's work on signing in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case
from civicgrid.cases.rules import case_act
from civicgrid.disputes import services as ds
from civicgrid.geo.models import Level, Region
from civicgrid.org.models import Membership, Role, User

# (title, type, summary, people, amount, threat of violence, the steps the mediator takes)
DISPUTES: tuple[tuple[str, str, str, int, int | None, bool, tuple[str, ...]], ...] = (
    ("楼上漏水致楼下天花板受损", "neighbour", "楼上卫生间漏水，楼下要求赔偿装修损失", 2, 3000, False, ()),
    ("物业费上涨引发业主不满", "property", "物业公司单方上调物业费，二十余户业主拒缴", 24, 60000, False, ("route",)),
    ("宅基地界址争议", "homestead", "两户村民就宅基地界址各执一词，曾发生推搡", 6, None, True, ("route", "accept")),
    ("拖欠装修工人工资", "labour", "包工头拖欠八名工人工资", 9, 86000, False, ("route", "accept", "start")),
    ("离婚后子女探视纠纷", "family", "双方就探视时间和方式发生争执", 2, None, False,
     ("route", "accept", "start", "session")),
    ("商铺租赁合同押金纠纷", "contract", "租期届满房东拒退押金", 2, 20000, False,
     ("route", "accept", "start", "session", "agree_written")),
    ("噪音扰民邻里矛盾", "neighbour", "楼下棋牌室夜间噪音扰民", 3, None, False,
     ("route", "accept", "start", "agree_oral")),
    ("电动车剐蹭赔偿", "traffic", "两辆电动车剐蹭，就赔偿金额协商", 2, 1500, False,
     ("route", "accept", "start", "agree_written", "follow_up")),
    ("宠物狗咬伤邻居", "neighbour", "邻居被狗咬伤，要求赔偿医药费", 2, 4200, False,
     ("route", "accept", "start", "agree_written", "follow_up", "close")),
    ("医疗费用争议", "medical", "患者家属对治疗费用有异议", 4, 150000, False,
     ("route", "accept", "start", "session", "fail")),
    ("借款纠纷一方拒绝调解", "contract", "出借人申请调解，借款人拒绝参与", 2, 50000, False,
     ("route", "accept", "record_refusal", "refer")),
    ("小区停车位争抢", "property", "业主与租户争抢车位多次发生口角", 5, None, False, ()),
)

STEP_DATA: dict[str, dict[str, Any]] = {
    "route": {},
    "accept": {},
    "start": {"note": "已告知当事人权利义务"},
    "session": {"note": "双方陈述诉求，调解员释法明理", "held_on": "", "place": "社区人民调解室",
                "attendees": "双方当事人"},
    "agree_written": {"terms": "一方赔偿对方损失 | 被申请人 | {due}\n双方互不追究 | 双方 | {due}"},
    "agree_oral": {"terms": "夜间十点后停止营业"},
    "follow_up": {"note": "回访：已按协议履行", "performed": "yes"},
    "close": {},
    "fail": {"reason": "双方分歧较大，调解不成", "referral": "court"},
    "record_refusal": {"reason": "被申请人明确表示不同意调解", "side": "respondent"},
    "refer": {"referral": "court"},
}


def demo_disputes_load(*, city: Region, say: Callable[[str], None] | None = None) -> int:
    """Mediation organisations and a dozen disputes for the demo ``mediator`` (nothing when the city
    has disputes already, or when there is no mediator login)."""
    say = say or (lambda m: None)
    mediator = User.objects.filter(username="mediator").first()
    membership = Membership.objects.filter(user=mediator, role=Role.MEDIATOR, is_active=True).first()
    if mediator is None or membership is None or membership.region is None:
        return 0
    if Case.objects.filter(case_type="dispute", city=city).exists():
        return 0
    street = membership.region
    centre = (User.objects.filter(memberships__role=Role.DISPATCHER, memberships__region=street,
                                  memberships__is_active=True).first())
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        communities = list(Region.objects.filter(level=Level.COMMUNITY, parent=street).order_by("code"))
        district = Region.objects.get(pk=street.district_id)
        for i, community in enumerate(communities, start=1):
            org = ds.organisation_create(actor=None, code=f"{community.code}-TJ", kind="peoples_community",
                                         name=f"{community.name}人民调解委员会", region=community)
            ds.mediator_add(actor=None, organisation=org, user=mediator, is_chief=i == 1)
        org = ds.organisation_create(actor=None, code=f"{street.code}-TJ", name=f"{street.name}人民调解委员会",
                                     kind="peoples_street", region=street)
        ds.mediator_add(actor=None, organisation=org, user=mediator)
        ds.organisation_create(actor=None, code=f"{district.code}-TJ", name=f"{district.name}人民调解委员会",
                               kind="peoples_district", region=district)
        med = ds.organisation_create(actor=None, code=f"{district.code}-YH", kind="professional", region=district,
                                     name=f"{district.name}医患纠纷人民调解委员会", dispute_types=["medical"])
        ds.mediator_add(actor=None, organisation=med, user=mediator)
        grids = list(Region.objects.filter(level=Level.GRID, street=street).order_by("code"))
        sources = ("walk_in", "grid_worker", "hotline", "police", "court", "petition")
        n = 0
        for i, (title, kind, summary, people, amount, violence, steps) in enumerate(DISPUTES):
            when = now - dt.timedelta(days=len(DISPUTES) - i, hours=2)
            grid = grids[i % len(grids)] if grids else None
            case = ds.dispute_register(actor=None, now=when, data=ds.DisputeInput(
                title=title, dispute_type=kind, summary=summary, source=sources[i % len(sources)],
                people_involved=people, amount=amount, threat_violence=violence, region=grid,
                applicant_claim="要求对方赔偿或停止侵害", respondent_claim="认为责任不在己方",
                parties=[ds.PartyInput(kind="applicant", name=f"申请人{i + 1}", phone=f"1380000{i:04d}"),
                         ds.PartyInput(kind="respondent", name=f"被申请人{i + 1}", phone=f"1390000{i:04d}")]))
            for step in steps:
                data = {k: (v.format(due=(now + dt.timedelta(days=15)).date().isoformat()) if isinstance(v, str) else v)
                        for k, v in STEP_DATA[step].items()}
                if step == "session":
                    data["held_on"] = when.date().isoformat()
                if step == "route" and kind == "medical":
                    data["organisation"] = med.code
                actor = centre if step == "route" and centre is not None else mediator
                case = case_act(actor=actor, case=case, action=step, data=data)
                if step == "accept":  # the organisation assigns the mediator as a person, who takes it on
                    case = case_act(actor=mediator, case=case, action="assign_mediator",
                                    data={"mediator": mediator.pk})
                    if i % 2 == 0:  # some left waiting in "my cases"
                        case = case_act(actor=mediator, case=case, action="take", data={})
            n += 1
    say(_("%(n)d disputes for the mediator") % {"n": n})
    return n
