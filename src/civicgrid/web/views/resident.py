"""The resident's pages (随手拍): report a problem with a map pin or an address, a photo, anonymously
if they wish; follow it by its tracking code (the public timeline); rate the result. Phone-sized."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import shapely
import shapely.geometry
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.cases.models import Case, Satisfaction
from civicgrid.cases.rules import ActionOffer, case_actions
from civicgrid.cases.selectors import PUBLIC_VIEW, case_get, case_view_of, reporter_documents
from civicgrid.core.ratelimit import RateLimited, rate_limit
from civicgrid.events import photos as photo_rules
from civicgrid.events import services as ev
from civicgrid.events.selectors import event_public, event_reported_by
from civicgrid.events.workflow import EVENT
from civicgrid.geo.models import Region
from civicgrid.geo.selectors import regions_geojson
from civicgrid.taxonomy.selectors import category_tree, request_types
from civicgrid.web.helpers import ActionFailed, idempotency_key, remember, replayed, run, uploaded_photos
from civicgrid.web.selectors import PublicCase, case_public

TRACKING_CODE = re.compile(r"[^/]{1,20}")  # as long as the field; a slash could not even be in the URL


def report_choices() -> dict[str, Any]:
    """What every report form shows: the categories, and the photo limits the page checks before
    uploading (the server checks them again)."""
    return {"category_tree": category_tree(), "request_types": request_types(),
            "photo_max_bytes": photo_rules.max_bytes(), "photo_max_count": photo_rules.max_count(),
            "photo_max_mb": f"{photo_rules.max_bytes() / 2**20:g}"}


def outline_geojson() -> dict[str, Any]:
    """The streets and communities, drawn and named as the map's background (public reference data).
    The page is opened on phones on slow links: outlines are simplified to about 10 m, which a
    background needs, and the pin's real place comes from the look-up, not from these shapes."""
    fc = regions_geojson(Region.objects.filter(level__in=("street", "community"), is_active=True)
                         .order_by("level", "code"))
    for f in fc["features"]:
        if f["geometry"] is not None:
            shape = shapely.set_precision(shapely.geometry.shape(f["geometry"])
                                          .simplify(0.0001, preserve_topology=True), 0.00001)
            if not shape.is_empty:  # a sliver smaller than the precision keeps its own shape
                f["geometry"] = shapely.geometry.mapping(shape)
    return fc


def event_input(request: HttpRequest, channel: str) -> ev.EventInput:
    p = request.POST
    return ev.EventInput(
        text=p.get("text", ""), title=p.get("title", ""), channel=channel,
        request_type=p.get("request_type") or None, category=p.get("category") or None,
        lon=p.get("lon") or None, lat=p.get("lat") or None, address=p.get("address", ""),
        reporter_name=p.get("reporter_name", ""), reporter_phone=p.get("reporter_phone", ""),
        anonymous=p.get("anonymous") in ("on", "1", "true"), priority=p.get("priority") or "normal",
        use_photo_location=p.get("use_photo_location") in ("on", "1", "true"))


def submit_report(request: HttpRequest, channel: str) -> ev.ReportResult:
    """Intake through the events service; a retry with the same key returns the first event."""
    actor = request.user if request.user.is_authenticated else None
    data = event_input(request, channel)
    photos = uploaded_photos(request)
    return run(lambda: ev.event_report(actor=actor, data=data, photos=photos,
                                       idempotency_key=idempotency_key(request)))


def _limited(request: HttpRequest, bucket: str) -> HttpResponse | None:
    try:
        rate_limit(request, bucket, limit=getattr(settings, "CIVICGRID_RATE_PUBLIC_PER_MINUTE", 120), per_seconds=60)
    except RateLimited as exc:
        response = HttpResponse(_("Too many requests: try again in a minute."), status=429,
                                content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(exc.retry_after)
        return response
    return None


def report(request: HttpRequest) -> HttpResponse:
    """The report form; on success, the tracking page of the new event."""
    ctx: dict[str, Any] = {"errors": {}, "values": {}, **report_choices(), "outline": outline_geojson()}
    if request.method == "POST":
        limited = _limited(request, "web-report")
        if limited:
            return limited
        return report_form_post(request, ctx, "resident",
                                lambda case: reverse("web:track_code", args=[case.tracking_code]) + "?new=1")
    return render(request, "web/report.html", ctx)


SECRETS_KEY = "rating_secrets"  # in the session: tracking code → rating secret, until shown once


def keep_secret_to_show(request: HttpRequest, result: ev.ReportResult) -> None:
    """Keep the new event's rating secret in the session until the thank-you page shows it, once
    (never in a URL: addresses end up in logs and histories)."""
    if result.rating_secret:
        kept = dict(request.session.get(SECRETS_KEY) or {})
        kept[result.case.tracking_code] = result.rating_secret
        request.session[SECRETS_KEY] = dict(list(kept.items())[-5:])


def secret_to_show(request: HttpRequest, code: str) -> str:
    """The rating secret kept for this event, taken out of the session (shown once)."""
    kept = dict(request.session.get(SECRETS_KEY) or {})
    secret = kept.pop(code, "")
    if secret:
        request.session[SECRETS_KEY] = kept
    return secret


def report_form_post(request: HttpRequest, ctx: dict[str, Any], channel: str,
                     success: Callable[[Case], str], sent: Callable[[Case], str] | None = None) -> HttpResponse:
    """A report form sent (the resident's, the grid worker's patrol): a resent form goes where the
    first went; bad fields come back on the form with what was typed; a new event goes to
    ``success(case)``, with the message ``sent(case)`` when given."""
    done = replayed(request)
    if done:
        return redirect(done)
    try:
        result = submit_report(request, channel)
    except ActionFailed as exc:
        ctx.update(errors=exc.errors, values=request.POST)
        return render(request, "web/report.html", ctx, status=exc.status)
    if channel == "resident":  # others rate from their account
        keep_secret_to_show(request, result)
    url = success(result.case)
    remember(request, url)
    if sent is not None and result.created:
        messages.success(request, sent(result.case))
    return redirect(url)


def suggest(request: HttpRequest) -> HttpResponse:
    """htmx: the category and department smart dispatch suggests for the text typed so far, and
    open reports that look like the same problem."""
    limited = _limited(request, "web-suggest")
    if limited:
        return limited
    text = (request.GET.get("text") or "").strip()[:4000]
    ctx: dict[str, Any] = {"suggestion": None, "duplicates": []}
    if len(text) >= 4:
        from civicgrid.dispatch.selectors import duplicate_candidates
        from civicgrid.dispatch.selectors import suggest as dispatch_suggest

        ctx["suggestion"] = dispatch_suggest(text)
        if request.user.is_authenticated:  # titles of others' reports are not for the public
            lon, lat = request.GET.get("lon"), request.GET.get("lat")
            try:
                point = (float(lon), float(lat)) if lon and lat else (None, None)
            except ValueError:
                point = (None, None)
            for name, value in zip(("lon", "lat"), point, strict=True):
                if value is not None and not math.isfinite(value):  # 1e999, nan: no place on earth
                    return HttpResponse(_("%(field)s: not a valid coordinate.") % {"field": name}, status=400,
                                        content_type="text/plain; charset=utf-8")
            # only reports this person may see (their jurisdiction; a resident: their own), never
            # other districts' codes, titles and distances
            ctx["duplicates"] = duplicate_candidates(text=text, lon=point[0], lat=point[1], limit=5,
                                                     user=request.user)
    return render(request, "web/partials/suggest.html", ctx)


def track(request: HttpRequest) -> HttpResponse:
    """Find a report by its tracking code."""
    code = (request.GET.get("code") or "").strip().upper()
    if code and not TRACKING_CODE.fullmatch(code):
        return render(request, "web/track_find.html", {"code": code, "not_found": True}, status=404)
    if code:
        return redirect("web:track_code", code=code)
    return render(request, "web/track_find.html", {})


def track_code(request: HttpRequest, code: str) -> HttpResponse:
    limited = _limited(request, "web-track")
    if limited:
        return limited
    view = case_public(tracking_code=code, user=request.user)
    if view is None:
        return render(request, "web/track_find.html", {"code": code, "not_found": True}, status=404)
    secret = secret_to_show(request, view.tracking_code)
    response = render(request, "web/track.html", track_context(request, view, {
        "new": request.GET.get("new") == "1", "rating_secret": secret}))
    if secret:
        response["Cache-Control"] = "no-store"  # shown once: no copy in a cache
    return response


def reporter_offers(request: HttpRequest, code: str) -> list[ActionOffer]:
    """The actions the engine offers the signed-in reporter on their own case (``rules.case_actions``:
    reopen, rate…), drawn on the tracking page as the case page draws them and posted to the same
    ``case_act``; nothing for a visitor, and nothing here for staff (theirs is the case page)."""
    if not request.user.is_authenticated:
        return []
    try:
        case = case_get(user=request.user, tracking_code=code)
    except Http404:
        return []
    if case_view_of(user=request.user, case=case) != PUBLIC_VIEW:
        return []
    return case_actions(request.user, case)


def track_context(request: HttpRequest, view: PublicCase, extra: dict[str, Any]) -> dict[str, Any]:
    """The public view of any case type, the actions the engine offers its signed-in reporter, and an
    event's own panel: the reporter's rating with the rating secret its intake gave (signed in to the
    reporting account, the engine's ``rate`` offer takes its place)."""
    offers = reporter_offers(request, view.tracking_code)
    ctx: dict[str, Any] = {"public": view, "can_rate": False, "errors": {}, "values": {}, "failed": "",
                           "actions": offers, "next": reverse("web:track_code", args=[view.tracking_code]),
                           **extra}
    ctx["own_rate"] = any(o.name == "rate" for o in offers)
    ctx["documents"] = reporter_documents(user=request.user, tracking_code=view.tracking_code)
    if view.case_type == EVENT:
        event = event_public(tracking_code=view.tracking_code)
        ctx.update(can_rate=bool(event and event.can_rate) and not ctx["own_rate"],
                   satisfactions=Satisfaction.choices,
                   own=event_reported_by(tracking_code=view.tracking_code, user=request.user))
    return ctx


@require_POST
def track_rate(request: HttpRequest, code: str) -> HttpResponse:
    """The reporter rates the result with the rating secret given with the tracking code, or signed
    in to the account they reported from."""
    limited = _limited(request, "web-track")
    if limited:
        return limited
    satisfaction = request.POST.get("satisfaction", "")
    user = request.user if request.user.is_authenticated else None
    try:
        try:
            run(lambda: ev.event_rate_public(tracking_code=code, satisfaction=satisfaction,
                                             secret=request.POST.get("secret", ""), actor=user,
                                             comment=request.POST.get("comment", "")))
        except ev.RatingRefused as exc:
            raise ActionFailed({"secret": [str(exc)]}, status=403) from None
    except ActionFailed as exc:
        view = case_public(tracking_code=code, user=request.user)
        if view is None:
            raise Http404 from None
        values = {"satisfaction": satisfaction, "comment": request.POST.get("comment", "")}
        return render(request, "web/track.html", track_context(request, view, {"errors": exc.errors,
                                                                                "values": values}),
                      status=exc.status)
    thanks = _("Thank you: your rating (%(satisfaction)s) was recorded.") % {
        "satisfaction": Satisfaction(satisfaction).label}
    if satisfaction == Satisfaction.UNSATISFIED:
        thanks += " " + _("The centre will call you to check the result with you.")
    messages.success(request, thanks)
    return redirect("web:track_code", code=code)
