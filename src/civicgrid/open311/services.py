"""The one write of the adapter: ``POST requests`` becomes a report through the events intake
(``events.services.event_report``, channel ``open311``). Nothing here saves a model: the events
services check, place, route, encrypt the reporter's name and phone, and store the event.

Open311's parameters map onto the intake's: ``service_code`` → category, ``description`` → text,
``lat``/``long`` or ``address_string`` or ``address_id`` (one of our region codes, usually a grid:
the event is placed at a point inside it) → location, ``first_name``/``last_name`` → reporter name,
``phone`` → reporter phone, ``media_url`` → a link kept with the photos, ``attribute[request_type]``,
``attribute[title]``, ``attribute[anonymous]``. Errors are the spec's 400 with the Open311 name of
each bad parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from civicgrid.cases.errors import CaseConflict
from civicgrid.events.services import EventInput, EventInvalid, ReportResult, event_report
from civicgrid.geo.selectors import region_by_code, region_shape
from civicgrid.open311.formats import Open311Error
from civicgrid.open311.selectors import service_definition, service_get

# our intake's field names → the spec's parameter names, for error messages
SPEC_NAMES = {"text": "description", "location": "lat/long", "reporter_phone": "phone",
              "reporter_name": "first_name/last_name", "category": "service_code", "media_url": "media_url",
              "request_type": "attribute[request_type]", "title": "attribute[title]",
              "idempotency_key": "Idempotency-Key", "photos": "media_url"}


def _bad(**fields: str) -> Open311Error:
    return Open311Error(400, "; ".join(f"{k}: {v}" for k, v in fields.items()))


def _number(params: Mapping[str, str], name: str) -> float | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise _bad(**{name: _("not a number")}) from None


def attributes_of(params: Mapping[str, str]) -> dict[str, str]:
    """``attribute[code]=value`` pairs of the request."""
    return {k[len("attribute["):-1]: v for k, v in params.items() if k.startswith("attribute[") and k.endswith("]")}


def _location(params: Mapping[str, str]) -> dict[str, Any]:
    lat, lon = _number(params, "lat"), _number(params, "long")
    address = (params.get("address_string") or "").strip()
    address_id = (params.get("address_id") or "").strip()
    if (lat is None) != (lon is None):
        raise _bad(**{"lat/long": _("give both lat and long")})
    if lat is not None:
        return {"lon": lon, "lat": lat, "address": address}
    if address_id:
        region = region_by_code(address_id)
        shape = region_shape(region) if region is not None and region.is_active else None
        if shape is None:
            raise _bad(address_id=_("unknown address_id %(id)s (one of our grid or community codes)")
                       % {"id": address_id})
        point = shape.representative_point()
        return {"lon": point.x, "lat": point.y, "address": address or region.name}
    if address:
        return {"address": address}
    raise _bad(location=_("give lat and long, or address_string, or address_id"))


def _attributes(params: Mapping[str, str], definition: dict[str, Any]) -> dict[str, Any]:
    given = attributes_of(params)
    known = {a["code"]: a for a in definition["attributes"] if a["variable"]}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise _bad(**{f"attribute[{u}]": _("unknown attribute") for u in unknown})
    out: dict[str, Any] = {}
    for code, value in given.items():
        value = value.strip()
        keys = [v["key"] for v in known[code]["values"]]
        if known[code]["datatype"] == "singlevaluelist" and value and value not in keys:
            raise _bad(**{f"attribute[{code}]": _("one of %(keys)s") % {"keys": ", ".join(keys)}})
        out[code] = value
    for code, attr in known.items():
        if attr["required"] and not out.get(code):
            raise _bad(**{f"attribute[{code}]": _("required")})
    return out


def request_submit(*, actor: Any, params: Mapping[str, str], idempotency_key: str = "",
                   token: Any = None) -> ReportResult:
    """Take in an Open311 ``POST requests`` (``actor``: the API token's user; the token scopes the
    idempotency key)."""
    code = (params.get("service_code") or "").strip()
    if not code:
        raise _bad(service_code=_("required"))
    category = service_get(code)
    if category is None:
        raise _bad(service_code=_("unknown service_code %(code)s") % {"code": code})
    location = _location(params)
    attrs = _attributes(params, service_definition(category))
    email = (params.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _bad(email=_("not an e-mail address")) from None
    name = " ".join(p for p in ((params.get("last_name") or "").strip(), (params.get("first_name") or "").strip())
                    if p)
    data = EventInput(
        text=(params.get("description") or "").strip(), title=attrs.get("title", ""), channel="open311",
        request_type=attrs.get("request_type") or None, category=category, reporter_name=name,
        reporter_phone=(params.get("phone") or "").strip(), anonymous=attrs.get("anonymous") == "true",
        media_url=(params.get("media_url") or "").strip(), **location,
    )
    try:
        return event_report(actor=actor, data=data, idempotency_key=idempotency_key, token=token)
    except EventInvalid as exc:
        raise _bad(**{SPEC_NAMES.get(k, k): v for k, v in exc.fields.items()}) from None
    except CaseConflict as exc:  # pragma: no cover - a concurrent retry with the same key
        raise Open311Error(400, str(exc)) from None
