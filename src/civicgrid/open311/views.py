"""The GeoReport v2 endpoints (/open311/v2/…{.json,.xml}). Thin: parse the parameters, call the
selectors or the one service, render JSON or XML; every refusal is the spec's error list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from civicgrid.core.inputs import day_error
from civicgrid.core.ratelimit import RateLimited, rate_limit_public
from civicgrid.geo.models import Region
from civicgrid.open311 import selectors as sel
from civicgrid.open311.formats import Open311Error, render, render_error
from civicgrid.open311.services import request_submit
from civicgrid.org.models import TokenScope
from civicgrid.org.services import token_authenticate

View = Callable[..., HttpResponse]


def open311_view(methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    """Answer errors as the spec's list in the asked format; rate-limit the public reads."""

    def wrap(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise Open311Error(405, _("Method %(m)s is not allowed here.") % {"m": request.method})
                if request.method == "GET":
                    try:
                        rate_limit_public(request, "open311")
                    except RateLimited as exc:
                        raise Open311Error(429, str(exc), retry_after=exc.retry_after) from None
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return render_error(exc, fmt)

        return inner

    return wrap


def _params(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else request.GET


def _city(request: HttpRequest) -> Region:
    """The jurisdiction asked for (``jurisdiction_id``: our city code), or the one we serve."""
    cities = sel.jurisdictions()
    wanted = (_params(request).get("jurisdiction_id") or "").strip()
    if wanted:
        if wanted not in cities:
            raise Open311Error(404, _("jurisdiction_id %(id)s not found.") % {"id": wanted})
        return cities[wanted]
    if len(cities) != 1:
        raise Open311Error(400, _("jurisdiction_id is required (one of %(ids)s).") % {"ids": ", ".join(cities)})
    return next(iter(cities.values()))


@open311_view()
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri("/open311/v2")
    body = {"changeset": sel.CHANGESET, "contact": _("The city's command centre (综治中心)."),
            "key_service": _("API keys (tokens with the intake scope) are issued by the city's administrators."),
            "endpoints": [{"specification": sel.SPECIFICATION, "url": base, "changeset": sel.CHANGESET,
                           "type": "production", "formats": ["text/xml", "application/json"]}]}
    return render(body, fmt, "discovery")


@open311_view()
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    _city(request)
    return render(sel.services(), fmt, "services")


@open311_view()
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    _city(request)
    category = sel.service_get(code)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s not found.") % {"code": code})
    return render(sel.service_definition(category), fmt, "service_definition")


def _when(raw: str, name: str, *, end: bool = False) -> dt.datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        day = parse_date(raw) if len(raw) == 10 else None  # a bare date: the whole day
        if day is not None:
            value = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
        else:
            value = parse_datetime(raw.replace(" ", "+"))  # a '+' sent unencoded arrives as a space
            if value is None:
                raise ValueError
    except ValueError:
        raise Open311Error(400, _("%(name)s: not a W3C date-time (e.g. 2024-09-01T00:00:00+08:00).")
                           % {"name": name}) from None
    problem = day_error(value.date())  # 9999-12-31 and 0001-01-01 leave no room for the 90-day window
    if problem:
        raise Open311Error(400, f"{name}: {problem}")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _positive(raw: str | None, name: str, default: int, most: int) -> int:
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= most:
        raise Open311Error(400, _("%(name)s: a whole number from 1 to %(most)d.") % {"name": name, "most": most})
    return value


def _list(raw: str | None) -> list[str] | None:
    items = [p.strip() for p in (raw or "").split(",") if p.strip()]
    return items or None


def _query(request: HttpRequest, city: Region) -> sel.RequestQuery:
    p = request.GET
    ids = _list(p.get("service_request_id"))
    if ids is not None:
        return sel.RequestQuery(city=city, ids=ids)
    start, end = _when(p.get("start_date", ""), "start_date"), _when(p.get("end_date", ""), "end_date", end=True)
    span = dt.timedelta(days=sel.MAX_DAYS)
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - span  # type: ignore[operator]
    elif end is None:
        end = start + span
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    if end - start > span:
        raise Open311Error(400, _("start_date and end_date may be at most %(n)d days apart.") % {"n": sel.MAX_DAYS})
    statuses = _list(p.get("status"))
    if statuses and set(statuses) - {"open", "closed"}:
        raise Open311Error(400, _("status: open or closed (comma-separated)."))
    return sel.RequestQuery(city=city, service_codes=_list(p.get("service_code")), start=start, end=end,
                            statuses=statuses)


def _extensions(request: HttpRequest) -> bool:
    raw = (request.GET.get("extensions") or "").strip().lower()
    if raw not in ("", "true", "false"):
        raise Open311Error(400, _("extensions: true or false."))
    return raw == "true"


@open311_view(methods=("GET", "POST"))
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    city = _city(request)
    query = _query(request, city)
    page = _positive(request.GET.get("page"), "page", 1, 10**6)
    size = _positive(request.GET.get("page_size"), "page_size", sel.MAX_REQUESTS, sel.MAX_REQUESTS)
    start = (page - 1) * size
    cases = list(sel.requests_matching(query)[start:start + size])
    return render(sel.request_rows(cases, extensions=_extensions(request)), fmt, "service_requests")


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    token = token_authenticate((request.POST.get("api_key") or "").strip())
    if token is None:
        raise Open311Error(403, _("api_key was not provided or is invalid."))
    if TokenScope.INTAKE.value not in token.scopes:
        raise Open311Error(403, _("This api_key may not submit requests (it lacks the intake scope)."))
    from civicgrid.core.context import token_minter_var

    token_minter_var.set(token.created_by)  # the audit rows name who minted the key, too
    _city(request)
    result = request_submit(actor=token.user, params=request.POST, token=token,
                            idempotency_key=request.headers.get("Idempotency-Key", ""))
    notice = _("Received; follow it with the tracking code %(code)s.") % {"code": result.case.tracking_code}
    if result.rating_secret:  # given once: the reporter needs it to rate the result
        notice += " " + _("To rate the result the reporter needs the rating secret %(secret)s (given only "
                          "now).") % {"secret": result.rating_secret}
    body = [{"service_request_id": result.case.tracking_code, "service_notice": notice, "account_id": None}]
    return render(body, fmt, "service_requests", status=201 if result.created else 200)


@open311_view()
def request_detail(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    case = sel.request_get(_city(request), code)
    if case is None:
        raise Open311Error(404, _("service_request_id %(id)s not found.") % {"id": code})
    return render(sel.request_rows([case], extensions=_extensions(request)), fmt, "service_requests")


@open311_view()
def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """Requests are created at once, so a token is the request's own id (tracking code)."""
    case = sel.request_get(_city(request), token)
    if case is None:
        raise Open311Error(404, _("token %(token)s not found.") % {"token": token})
    return render([{"service_request_id": case.tracking_code, "token": token}], fmt, "service_requests")


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any other path under /open311/v2/: the spec's error list (XML unless the path ends in .json),
    not the site's HTML 404 page."""
    fmt = "json" if path.endswith(".json") else "xml"
    return render_error(Open311Error(404, _("There is no Open311 endpoint at this address.")), fmt)
