"""The petitions page: the petition office's register and routing desk (each registered petition
with the units it may be routed to), and the unit's inbox (the petitions routed to the user's
departments). Each petition's own page, with the forms of the steps the engine offers, is the
engine's case page (/cases/<code>/); a leader's owned petitions are on /mine/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.petitions import selectors
from civicgrid.petitions.models import Kind


@login_required
def register(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") or None
    if kind not in Kind.values:
        kind = None
    cases = list(selectors.register_of(request.user, kind=kind)[:200])
    rows = []
    for c in cases:
        d = c.petition
        offer = (selectors.units_for(c, d.office)[:5]
                 if c.state == "registered" and selectors.is_office_staff(request.user, d) else [])
        rows.append({"case": c, "detail": d, "offer": offer})
    inbox = list(selectors.inbox_of(request.user)[:200])
    return render(request, "petitions/register.html", {"rows": rows, "inbox": inbox, "kind": kind,
                                                       "kinds": Kind.choices})
