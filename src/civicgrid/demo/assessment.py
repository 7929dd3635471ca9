"""Demo unit assessment (目标责任考核): a department scheme and the last full month computed,
approved and published for the demo city, so the ranking page has a period to show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.assessment.models import AssessmentPeriod, PeriodState, Scheme
from civicgrid.assessment.services import period_advance, period_compute, scheme_version_create
from civicgrid.geo.models import Region
from civicgrid.org.models import User

INDICATORS = [{"metric": "closure", "weight": 25}, {"metric": "on_time", "weight": 25},
              {"metric": "rework", "weight": 10}, {"metric": "response", "weight": 10},
              {"metric": "resolution", "weight": 15}, {"metric": "satisfaction", "weight": 15}]
FLOORS = {"A": 90, "B": 75, "C": 60, "D": 40}


def demo_assessment_load(*, city: Region, say: Callable[[str], None] | None = None) -> int:
    """Idempotent: the scheme once, the last month's periods (departments, streets) computed again
    until published. Returns the number of subjects ranked."""
    leader = User.objects.filter(username="admin").first()
    if leader is None:
        return 0
    scheme = Scheme.objects.filter(code="demo-units").order_by("-version").first() or scheme_version_create(
        actor=leader, code="demo-units", name="部门与街道目标责任考核", indicators=INDICATORS, thresholds=FLOORS)
    today = timezone.localdate()
    last = today.replace(day=1) - dt.timedelta(days=1)
    first = last.replace(day=1)
    ranked = 0
    for kind in ("department", "street"):
        existing = AssessmentPeriod.objects.filter(scheme=scheme, subject_kind=kind, region=city, first_day=first,
                                                   last_day=last).first()
        if existing is not None and existing.state != PeriodState.COMPUTED:
            ranked += existing.scores.count()
            continue
        period = period_compute(actor=leader, scheme=scheme, subject_kind=kind, region=city, first_day=first,
                                last_day=last)
        period = period_advance(actor=leader, period=period, to=PeriodState.APPROVED)
        period_advance(actor=leader, period=period, to=PeriodState.PUBLISHED)
        ranked += period.scores.count()
    if say is not None:
        say(_("unit assessment: %(n)d subjects ranked for %(month)s, published")
            % {"n": ranked, "month": first.strftime("%Y-%m")})
    return ranked
