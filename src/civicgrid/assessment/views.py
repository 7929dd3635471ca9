"""The centre's follow-up call list (回访): the calls to make, verifying calls first, with a form per
call (reached: contacted? resolved? how satisfied?; or unreachable, refused). A page worked all day:
a call recorded sends the caller back to the list, which no longer shows a case called to the end."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from civicgrid.assessment import selectors, services
from civicgrid.assessment.models import CallOutcome
from civicgrid.cases.errors import CaseConflict
from civicgrid.cases.models import Satisfaction
from civicgrid.cases.selectors import case_get


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _page(request: HttpRequest, *, errors: dict[str, list[str]] | None = None, failed: str = "",
          status: int = 200) -> HttpResponse:
    if not selectors.may_call(request.user):
        raise PermissionDenied(_("You do not make follow-up calls."))
    items = selectors.call_list(user=request.user)
    return render(request, "assessment/calls.html", {
        "items": items, "outcomes": CallOutcome.choices, "satisfactions": Satisfaction.choices,
        "errors": errors or {}, "failed": failed, "values": request.POST if failed else {},
    }, status=status)


@login_required
def calls(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
def call(request: HttpRequest, code: str) -> HttpResponse:
    """POST: record a call about the case. GET: the call list at that case's row."""
    case = case_get(user=request.user, tracking_code=code)  # 404 outside the caller's jurisdiction
    if not selectors.may_call(request.user):
        raise PermissionDenied(_("You do not make follow-up calls."))
    if request.method != "POST":
        return redirect(f"{reverse('assessment:calls')}#call-{case.tracking_code}")
    try:
        services.call_record(actor=request.user, case=case, outcome=request.POST.get("outcome", ""),
                             contacted=_yes_no(request.POST.get("contacted")),
                             resolved=_yes_no(request.POST.get("resolved")),
                             satisfaction=request.POST.get("satisfaction", ""), note=request.POST.get("note", ""))
    except ValidationError as exc:
        return _page(request, errors=exc.message_dict, failed=case.tracking_code, status=422)
    except CaseConflict as exc:
        messages.error(request, str(exc))
        return redirect("assessment:calls")
    messages.success(request, _("Call about %(code)s recorded.") % {"code": case.tracking_code})
    return redirect("assessment:calls")
