"""Early warning in the demo city: a few alert rules, two planted problems (a water main that keeps
bursting at one corner, a sudden run of waterlogging reports in one community today) reported through
the same bulk path as the demo's other events, one tick of the rules, and the alerts it raised taken
to several states (acknowledged, investigating, closed as acted on, escalated; the rest stay open)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case
from civicgrid.events import services as ev
from civicgrid.events.bulk import BulkWriter
from civicgrid.events.importing import ImportRow
from civicgrid.geo.models import Region
from civicgrid.org.models import Membership, Role
from civicgrid.taxonomy.selectors import category_by_code
from civicgrid.warning import services as warning
from civicgrid.warning.models import Alert, AlertRule

Progress = Callable[[str], None]

RULES = (
    ("demo-spike", "类别突增", "spike", {}, ["E0505"], "normal"),
    ("demo-place", "同一地点反复", "place", {"n": 5, "radius_m": 80, "days": 7}, [], "normal"),
    ("demo-hotspot", "时空热点", "hotspot", {"n": 12, "cell_m": 300, "days": 7}, [], "severe"),
    ("demo-deadlines", "批量临期", "deadlines", {"n": 15, "hours": 24}, [], "normal"),
    ("demo-whistle", "报到屡次超时", "whistle", {"n": 3, "days": 30}, [], "normal"),
)


def _plant(community: Region, *, code: str, texts: tuple[str, ...], n: int, spread: float, hours: int,
           rng: random.Random, now: dt.datetime, tag: str) -> int:
    """``n`` reports of category ``code`` around the middle of ``community`` over the last ``hours``."""
    lookups = ev.Lookups()
    sample = Case.objects.filter(community=community, lat__isnull=False).order_by("id").first()
    if sample is None or sample.lon is None or sample.lat is None:
        return 0
    rows = []
    for i in range(n):
        data = ev.EventInput(text=f"{texts[i % len(texts)]}（{i + 1}）", channel="hotline", request_type="求助",
                             category=code, lon=round(sample.lon + rng.uniform(-spread, spread), 6),
                             lat=round(sample.lat + rng.uniform(-spread, spread), 6), source_system="demo")
        prepared = ev.event_validate(data, lookups=lookups)
        at = now - dt.timedelta(minutes=rng.randint(5, hours * 60))
        rows.append(ImportRow(i + 2, prepared, f"{tag}{i}", f"sys:demo:{tag}{i}", ev.fingerprint(prepared), at))
    rows.sort(key=lambda r: r.reported_at)
    with transaction.atomic():
        writer = BulkWriter(actor=None, now=now)
        writer.write(rows)
        writer.finish()
    return n


#: The planted problems join a demo of at least this many events (small demos keep their exact count).
PLANT_FROM = 1000


def demo_warning_load(*, city: Region, seed: int = 2026, say: Progress | None = None,
                      plant: bool | None = None) -> int:
    """Rules, two planted problems (``plant``; by default when the demo has ``PLANT_FROM`` events or
    more), one tick and a few handled alerts; returns the alerts raised (nothing when the demo has
    rules already)."""
    say = say or (lambda m: None)
    if AlertRule.objects.exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    for code, name, kind, params, cats, severity in RULES:
        categories = [c for c in (category_by_code(x) for x in cats) if c is not None]
        warning.rule_save(actor=None, code=code, name=name, kind=kind, params=params, categories=categories,
                          severity=severity)
    warning.warning_baselines(now=now)
    if plant is None:
        plant = Case.objects.filter(city=city, case_type="event").count() >= PLANT_FROM
    communities = list(Region.objects.filter(city=city, level="community").order_by("code"))
    if plant and len(communities) >= 2:
        _plant(communities[0], code="E0502", texts=("自来水管破裂，马路上水流成河", "同一个路口水管又爆了"),
               n=6, spread=0.0002, hours=72, rng=rng, now=now, tag="wpl")
        _plant(communities[1], code="E0505", texts=("下雨后路口积水没过脚踝", "小区门口积水严重"), n=14,
               spread=0.001, hours=6, rng=rng, now=now, tag="wsp")
    report = warning.warning_tick(now=now)
    handled = list(Alert.objects.filter(pk__in=report.raised).select_related("centre").order_by("pk"))
    actions = ("acknowledge", "investigate", "close", "escalate")
    for alert, action in zip(handled[1:], actions, strict=False):  # the first stays open
        actor = (Membership.objects.filter(region=alert.centre, role=Role.DISPATCHER, is_active=True)
                 .select_related("user").first())
        warning.alert_act(actor=actor.user if actor else None, alert=alert, action=action,
                          note=_("Demo: handled by the centre."), outcome="acted_on")
    say(_("%(n)d alert rules, %(a)d alerts raised") % {"n": len(RULES), "a": len(report.raised)})
    return len(report.raised)
