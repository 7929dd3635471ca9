"""Template helpers of the pages: state labels, and the SVG bars of the dashboard."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.registry import SYSTEM
from civicgrid.events.workflow import CLOCK_LABELS

register = template.Library()


@register.filter
def case_state(case: Any) -> str:
    """The translated label of the case's state, as its type declares it (an event's ``registered`` → 已立案)."""
    return state_in(case.state, case)


@register.filter
def state_in(state: str, case: Any) -> str:
    """The translated label of ``state`` in the case's type (a timeline step's new state)."""
    from civicgrid.web.selectors import state_label_of

    return state_label_of(case.case_type, state)


@register.filter
def get(mapping: Any, key: str) -> Any:
    """``mapping[key]`` in a template (a form's errors or values by a field's name; "" when absent)."""
    if not mapping:
        return ""
    value = mapping.get(key, "")
    return "" if value is None else value


@register.filter
def takes_uploads(offer: Any) -> bool:
    """Whether an offered action takes photos or files (its form is sent as multipart)."""
    return any(i.kind in ("photos", "files") for i in offer.inputs)


@register.filter
def clock_label(kind: str) -> str:
    """The translated name of a case clock (``handle`` → 办结时限)."""
    return str(CLOCK_LABELS.get(kind, kind))


KIND_SHORT = {"component": pgettext_lazy("category kind", "facility"),  # 部件
              "event": pgettext_lazy("category kind", "incident"),  # 事件
              "request": pgettext_lazy("category kind", "request")}  # 诉求


@register.filter
def category_group(category: Any) -> str:
    """A top-level category with its catalogue, as the forms group them: 市容环境（部件） and
    市容环境（事件） are two different groups."""
    return gettext("%(name)s (%(kind)s)") % {"name": category.name,
                                            "kind": KIND_SHORT.get(category.kind, category.kind)}


@register.filter
def timeline_actor(entry: Any) -> str:
    """Who took a timeline step: the person's name; a rating without an account is the reporter's
    own (the tracking page), any other step without one the system's."""
    if entry.actor_name and entry.actor_name != SYSTEM:
        return str(entry.actor_name)
    return str(_("the reporter") if entry.action == "rate" else _("system"))


@register.filter
def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


@register.filter
def thousands(value: int | None) -> str:
    """A count with thousands separators (2,194)."""
    return "" if value is None else f"{int(value):,}"


@register.filter
def num(value: float | int | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):  # a suppressed small count ("<5")
        return value
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


@register.inclusion_tag("web/partials/bars.html")
def bars(rows: list[tuple[str, float | None]], width: int = 560, row_height: int = 22) -> dict[str, Any]:
    """A horizontal bar chart drawn as SVG on the server: one bar per (label, percent) row."""
    label_w = 150
    plot_w = width - label_w - 60
    items = []
    for i, (label, value) in enumerate(rows):
        w = 0 if value is None else max(0.0, min(100.0, value)) / 100 * plot_w
        items.append({"label": label, "value": value, "y": i * row_height, "w": round(w, 1),
                      "ty": i * row_height + row_height * 0.7, "vx": label_w + w + 4})
    return {"items": items, "width": width, "height": max(row_height, len(rows) * row_height), "label_w": label_w,
            "bar_h": row_height - 6, "plot_w": plot_w}


@register.filter
def step_label(entry: Any, case: Any) -> str:
    """A staff timeline step's name in the case's type, with the satisfaction when it is a rating."""
    from civicgrid.web.selectors import step_label as labelled

    return labelled(entry, case.case_type)


@register.filter
def masked_party(delivery: Any) -> str:
    """The party a document was delivered to, masked (the name is kept encrypted)."""
    return str(delivery._meta.get_field("party_name").masked(delivery))
