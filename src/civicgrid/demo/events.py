"""Demo events (事件) for the demo city: a few thousand reports with Chinese descriptions, in every
state of the loop, generated from a seed (the same seed gives the same events).

The reports go in through the bulk path of the event import (the rows intake writes), then a share
of them is walked through the loop by the production services — registered, dispatched, disputed,
accepted, reported back, verified, sent back for rework, closed, replied, rated (some unsatisfied,
which reopens them), answered directly, rejected, merged and whistled — so each state and each
step of the timeline shows up in the admin and the API.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from civicgrid.assessment.services import call_record
from civicgrid.cases.models import Case
from civicgrid.events import services as ev
from civicgrid.events.bulk import BulkWriter
from civicgrid.events.importing import ImportRow
from civicgrid.events.photos import PhotoUpload
from civicgrid.events.workflow import EVENT, STATES
from civicgrid.geo.models import Boundary, Region
from civicgrid.org.models import Department, Membership, User

# category code → what people say about it
PROBLEMS: dict[str, tuple[str, ...]] = {
    "C0101": ("上水井盖缺失，晚上路过很危险", "上水井盖破损下陷，车辆经过哐哐响"),
    "C0102": ("污水井盖松动移位，有异味冒出", "污水井盖被压碎了一角"),
    "C0103": ("雨水井盖不见了，已经有人差点踩空",),
    "C0104": ("雨水箅子被垃圾堵死，下雨就积水",),
    "C0108": ("消防栓漏水，地面一直湿滑", "消防栓被车撞歪了"),
    "C0109": ("路灯连续几晚不亮，小路一片漆黑", "路灯杆倾斜，电线外露"),
    "C0110": ("公共厕所无人保洁，气味很大", "公厕洗手池水龙头坏了"),
    "C0202": ("交通信号灯不亮，路口车辆抢行", "红绿灯时间太短，老人过不去马路"),
    "C0203": ("道路护栏被撞断，散落在车道上",),
    "C0204": ("公交站亭玻璃破碎，有划伤风险",),
    "C0206": ("人行道地砖松动翘起，下雨踩上去溅水", "人行道坑洼不平，轮椅无法通过"),
    "C0207": ("车行道出现大坑，已有电动车摔倒",),
    "C0301": ("垃圾箱满溢，垃圾散落一地", "垃圾箱破损没有盖子"),
    "C0303": ("广告牌匾松动，大风天有坠落危险", "店招缺字破损"),
    "C0402": ("行道树枯死，树枝随时可能掉落", "行道树枝条挡住了红绿灯"),
    "C0403": ("绿地被车辆碾压，草皮全秃了", "绿化带里堆满了建筑垃圾"),
    "C0501": ("健身器材螺丝松动，老人锻炼不安全", "单杠断裂"),
    "C0502": ("河道护栏缺失一段，孩子在边上玩很危险",),
    "E0101": ("路边暴露垃圾堆放两天无人清运", "小区门口有人倾倒生活垃圾"),
    "E0102": ("空地积存大量渣土，起风就扬尘",),
    "E0103": ("道路油污严重，早上有人滑倒",),
    "E0104": ("河面漂浮大量垃圾和死鱼",),
    "E0105": ("有人在绿地里焚烧树叶，烟很大",),
    "E0106": ("楼下饭店油烟直排，窗户都不敢开",),
    "E0201": ("单元门和电线杆上贴满小广告",),
    "E0301": ("楼顶在搭建彩钢板房，疑似违建", "一楼住户私自破墙开门"),
    "E0302": ("工地夜间十一点后还在施工，噪音扰民", "凌晨有渣土车进出工地"),
    "E0304": ("渣土车沿路遗撒泥土",),
    "E0306": ("工地未覆盖裸土，扬尘严重",),
    "E0401": ("流动摊贩聚集在校门口",),
    "E0402": ("商户在店外摆放货架占用人行道",),
    "E0403": ("早市占道经营，行人只能走机动车道",),
    "E0404": ("夜间露天烧烤，油烟和噪音扰民",),
    "E0405": ("机动车长期占用消防通道", "人行道上停满了汽车"),
    "E0406": ("共享单车乱停放堵住盲道",),
    "E0501": ("路面突然塌陷出一个大坑",),
    "E0502": ("自来水管破裂，马路上水流成河",),
    "E0503": ("下水道堵塞，污水冒到路面上",),
    "E0504": ("闻到很浓的燃气味，怀疑管道泄漏",),
    "E0505": ("下雨后路口积水没过脚踝",),
    "E0506": ("大风把行道树刮倒，压住了护栏",),
}
# Enquiries and the answers the centre gives them: the 12345 knowledge base shows these answers
ENQUIRIES = {
    "请问垃圾分类的投放时间是几点？": "定时定点投放：每天7:00—9:00、18:00—20:00，其他时间请投放到小区误时投放点。",
    "居住证办理需要带哪些材料？": "携带身份证原件、租房合同或房产证明、近期免冠照片，到居住地社区服务中心窗口办理，"
                                  "约15个工作日领证。",
    "老年人公交卡在哪里办理？": "年满60周岁的本市户籍老人携带身份证和一寸照片，到就近公交卡服务网点办理，当场制卡。",
    "社区疫苗接种点周末开放吗？": "社区卫生服务中心接种门诊周六上午8:30—11:30开放，周日休息，建议先通过预约平台预约。",
    "大件垃圾怎么预约清运？": "拨打所在街道环卫所电话或在物业处登记，环卫部门每周二、周五上门收运，家具等免费清运。",
}
PLACES = ("小区南门", "菜市场旁", "学校门口", "公交站附近", "十字路口", "社区卫生服务站前", "商业街", "河边步道",
          "老旧小区内", "地铁口")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
CHANNELS = ("patrol", "patrol", "resident", "hotline", "hotline", "open311", "sensor")

# How many of every hundred events end in each state (the rest stay reported).
PLAN = (("registered", 2), ("dispatched", 2), ("review", 1), ("handling", 3), ("verifying", 1), ("rework", 1),
        ("closed", 1), ("replied", 2), ("rated", 4), ("unsatisfied", 1), ("answered", 5), ("rejected", 1),
        ("merged", 1), ("whistled", 1))

Progress = Callable[[str], None]


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 90)).save(out, format="JPEG")
    return out.getvalue()


def demo_events_load(*, city: Region, count: int = 3000, seed: int = 2026, say: Progress | None = None) -> int:
    """Create ``count`` demo events in the demo city (nothing when it has events already)."""
    say = say or (lambda m: None)
    if count <= 0 or Case.objects.filter(case_type=EVENT, city=city).exists():
        return 0
    rng = random.Random(seed)
    box = Boundary.objects.get(region=city, valid_to__isnull=True)
    now = timezone.now().replace(microsecond=0)
    lookups = ev.Lookups()
    resident = User.objects.filter(username="resident").first()
    own = OWN_REPORTS if resident is not None and count > 10 * OWN_REPORTS else 0
    rows = []
    for i in range(count - own):
        enquiry = rng.random() < 0.05
        if enquiry:
            code, text, rtype, channel = "", rng.choice(list(ENQUIRIES)), "咨询", "hotline"
        else:
            code = rng.choice(list(PROBLEMS))
            text = f"{rng.choice(PLACES)}{rng.choice(PROBLEMS[code])}"
            rtype = rng.choice(("求助", "投诉", "投诉", "举报", "建议"))
            channel = rng.choice(CHANNELS)
        outside = rng.random() < 0.02  # a few outside every grid: the city centre's manual queue
        lon = rng.uniform(box.min_x, box.max_x) + (0.5 if outside else 0)
        lat = rng.uniform(box.min_y, box.max_y)
        named = channel in ("hotline", "resident") and rng.random() < 0.7
        data = ev.EventInput(text=text, channel=channel, request_type=rtype, category=code or None,
                             lon=round(lon, 6), lat=round(lat, 6),
                             reporter_name=f"{rng.choice(SURNAMES)}{rng.choice('先生女士')}" if named else "",
                             reporter_phone=f"139{rng.randint(10000000, 99999999)}" if named else "",
                             source_system="demo")
        prepared = ev.event_validate(data, lookups=lookups)
        reported_at = now - dt.timedelta(minutes=rng.randint(60, 30 * 24 * 60))
        rows.append(ImportRow(i + 2, prepared, f"{i}", f"sys:demo:{i}", ev.fingerprint(prepared), reported_at))
    rows.sort(key=lambda r: r.reported_at)
    with transaction.atomic():
        writer = BulkWriter(actor=None, now=now)
        for start in range(0, len(rows), 5000):
            writer.write(rows[start:start + 5000])
        writer.finish()
    # The bulk-loaded reports came in without accounts, so nobody holds their rating secrets: the demo
    # resident reports a few problems of their own through intake, signed in, to rate them signed in.
    routed = list(Case.objects.filter(case_type=EVENT, city=city, state="reported", event__routing="routed")
                  .order_by("-created_at", "-id")[:own])
    mine = [_resident_report(resident, like, now) for like in routed]
    say(_("%(n)d events reported") % {"n": count})
    _walk(city, rng, now, say, mine)
    _train(say)
    return count


def _train(say: Progress) -> None:
    """Train the category suggestion (智能分拨) on the events the walk closed, as the worker's
    scheduled retrain would, so the report and call-taking pages suggest categories from the start."""
    from civicgrid.dispatch.services import model_train_from_cases

    try:
        row = model_train_from_cases(actor=None)
    except ValueError as exc:  # too few closed events (a small --events): the pages work without it
        say(_("category suggestions not trained: %(why)s") % {"why": exc})
        return
    say(_("category suggestions trained on %(n)d closed events") % {"n": row.documents})


OWN_REPORTS = 3  # the demo resident's own reports, answered and waiting for their rating


def _resident_report(resident: User, like: Case, now: dt.datetime) -> Case:
    """The resident reports, signed in, the same kind of problem at the same place as ``like`` (a
    routed report, so a department is suggested), three days ago."""
    data = ev.EventInput(text=like.text, channel="resident", request_type="求助",
                         category=like.category.code if like.category_id else None, lon=like.lon, lat=like.lat)
    return ev.event_report(actor=resident, data=data, now=now - dt.timedelta(days=3)).case


def _walk(city: Region, rng: random.Random, now: dt.datetime, say: Progress, own: list[Case]) -> None:
    """Move a share of the events through the loop with the services, as the demo's staff; ``own``
    (the demo resident's reports) are the first to reach "replied", where they wait for its rating."""
    dispatcher = User.objects.filter(username="city_dispatcher").first()
    resident = User.objects.filter(username="resident").first()
    awaiting: list[str] = []
    handlers = {m.department_id: m.user for m in
                Membership.objects.filter(role="department_handler", is_active=True).select_related("user")}
    photo = [PhotoUpload("现场照片.jpg", _photo())]
    events = list(Case.objects.filter(case_type=EVENT, city=city, state="reported").select_related("request_type")
                  .order_by("created_at", "id"))
    enquiries = [c for c in events if c.request_type and c.request_type.answer_directly]
    mine = {c.pk for c in own}
    routed = [c for c in events if c not in enquiries and c.event.routing == "routed" and c.pk not in mine]
    rng.shuffle(routed)
    pool = iter(routed)
    first = iter(own)
    done: dict[str, int] = {}
    step = dt.timedelta(minutes=20)

    def fresh(case: Case) -> Case:
        return Case.objects.get(pk=case.pk)

    for target, per_hundred in PLAN:
        n = max(1, len(events) * per_hundred // 100)
        if target == "answered":
            for case in enquiries[:n]:
                ev.event_answer(actor=dispatcher, case=case, answer=ENQUIRIES.get(case.text, "已答复来电人。"),
                                now=case.created_at + step)
            done[target] = min(n, len(enquiries))
            continue
        made = 0
        for case in (itertools.chain(first, pool) if target == "replied" else pool):
            if made >= n:
                break
            t = case.created_at + step
            if target == "rejected":
                ev.event_reject(actor=dispatcher, case=case, reason="经核实不属于受理范围", now=t)
                made += 1
                continue
            if target == "merged":
                survivor = next(pool, None)
                if survivor is None:  # a small demo has run out of reports to merge into
                    break
                ev.event_register(actor=dispatcher, case=survivor, now=t)
                from civicgrid.cases.services import case_merge

                case_merge(actor=dispatcher, survivor=fresh(survivor), duplicates=[case], note="同一问题重复上报",
                           now=t + step)
                made += 1
                continue
            ev.event_register(actor=dispatcher, case=case, now=t)
            if target == "registered":
                made += 1
                continue
            if target == "whistled":
                depts = list(Department.objects.filter(region_id=case.district_id, is_active=True)
                             .exclude(pk=case.event.suggested_department_id).order_by("code")[:2])
                kind = rng.choice(("routine", "hard", "emergency"))
                ev.whistle_blow(actor=dispatcher, case=fresh(case), kind=kind,
                                reason="问题复杂，需要多部门联合处置", departments=depts, now=t + step)
                made += 1
                continue
            lead = case.event.suggested_department
            handler = handlers.get(lead.pk) if lead else None
            ev.event_dispatch(actor=dispatcher, case=fresh(case), note="请按时限处置", now=t + step)
            if target == "dispatched":
                made += 1
                continue
            if target == "review":
                ev.event_dispute(actor=handler, case=fresh(case), reason="该事项不属于本部门职责", now=t + 2 * step)
                made += 1
                continue
            ev.event_accept(actor=handler, case=fresh(case), now=t + 2 * step)
            if target == "handling":
                made += 1
                continue
            ev.event_report_back(actor=handler, case=fresh(case), note="已到场处置完毕", photos=photo,
                                 now=t + 6 * step)
            if target == "verifying":
                made += 1
                continue
            if target == "rework":
                ev.event_verify(actor=None, case=fresh(case), passed=False, note="现场复核未整改到位",
                                now=t + 8 * step)
                made += 1
                continue
            ev.event_verify(actor=None, case=fresh(case), passed=True, note="网格员现场核查已整改", now=t + 8 * step)
            if target == "closed":
                made += 1
                continue
            ev.event_reply(actor=dispatcher, case=fresh(case), reply="您反映的问题已处理完毕，感谢您的监督。",
                           now=t + 9 * step)
            if target == "replied" and resident is not None and case.reporter_id == resident.pk:
                awaiting.append(case.tracking_code)
            if target in ("rated", "unsatisfied"):
                satisfaction = "unsatisfied" if target == "unsatisfied" else rng.choice(
                    ("satisfied", "satisfied", "satisfied", "basic"))
                ev.event_rate(actor=None, case=fresh(case), satisfaction=satisfaction,
                              comment="处理及时" if satisfaction != "unsatisfied" else "问题没有解决",
                              now=t + 12 * step)
                # the centre's follow-up call (回访): the staff call is what the three rates count, and
                # only its "unsatisfied" (the verifying call, 回访核实) sends the event back for rework
                if dispatcher is not None:
                    if rng.random() < 0.2:
                        call_record(actor=dispatcher, case=fresh(case), outcome="unreachable", note="无人接听",
                                    now=t + 13 * step)
                    call_record(actor=dispatcher, case=fresh(case), outcome="reached", contacted=rng.random() < 0.9,
                                resolved=satisfaction != "unsatisfied", satisfaction=satisfaction,
                                note="回访核实：仍未解决" if satisfaction == "unsatisfied" else "",
                                now=t + 14 * step)
            made += 1
        done[target] = made
    labels = {**STATES, "rework": _("sent back for rework"), "rated": _("rated"),
              "unsatisfied": _("rated unsatisfied, reopened"), "whistled": _("whistle blown")}
    say(_("events taken through the loop: %(steps)s") % {
        "steps": _(", ").join(f"{labels.get(k, k)} {v}" for k, v in done.items())})
    if awaiting:
        say(_("the resident login reported %(codes)s: signed in, it rates them on their tracking pages")
            % {"codes": _(", ").join(awaiting)})
