"""JSON Schemas of GeoReport v2 answers, written from the specification (wiki.open311.org
GeoReport_v2) and compared with the open311/schema-validation repository's; used by the tests for
the JSON answers and for the XML answers read back into the same structure (:func:`from_xml`)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

STR = {"type": "string"}
OPT_STR = {"type": ["string", "null"]}
OPT_NUM = {"type": ["number", "null"]}
DATETIME = {"type": "string", "format": "date-time"}
OPT_DATETIME = {"type": ["string", "null"], "format": "date-time"}


def obj(required: list[str], props: dict[str, Any], *, closed: bool = True) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props, "additionalProperties": not closed}


def array(items: dict[str, Any], *, min_items: int = 0) -> dict[str, Any]:
    return {"type": "array", "items": items, "minItems": min_items}


ERRORS = array(obj(["code", "description"], {"code": {"type": "integer", "enum": [400, 403, 404, 405, 429]},
                                              "description": STR}), min_items=1)

DISCOVERY = obj(["changeset", "contact", "key_service", "endpoints"], {
    "changeset": DATETIME, "contact": STR, "key_service": STR,
    "endpoints": array(obj(["specification", "url", "changeset", "type", "formats"], {
        "specification": {"type": "string", "format": "uri"}, "url": {"type": "string", "format": "uri"},
        "changeset": DATETIME, "type": {"enum": ["production", "test"]},
        "formats": array({"enum": ["text/xml", "application/json"]}, min_items=1),
    }), min_items=1),
})

SERVICE = obj(["service_code", "service_name", "metadata", "type"], {
    "service_code": STR, "service_name": STR, "description": OPT_STR, "metadata": {"type": "boolean"},
    "type": {"enum": ["realtime", "batch", "blackbox"]}, "keywords": OPT_STR, "group": OPT_STR,
})
SERVICES = array(SERVICE, min_items=1)

VALUE = obj(["key", "name"], {"key": STR, "name": STR})
ATTRIBUTE = obj(["variable", "code", "datatype", "required"], {
    "variable": {"type": "boolean"}, "code": STR,
    "datatype": {"enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]},
    "required": {"type": "boolean"}, "datatype_description": OPT_STR, "order": {"type": ["integer", "null"]},
    "description": OPT_STR, "values": array(VALUE),
})
SERVICE_DEFINITION = obj(["service_code", "attributes"], {"service_code": STR, "attributes": array(ATTRIBUTE)})

NOTE = obj(["datetime", "type", "summary", "status", "description"], {
    "datetime": DATETIME, "type": STR, "summary": STR, "status": STR, "description": STR})
EXTENDED = obj(["state", "state_label", "category_path", "grid", "street", "merged_into", "notes"], {
    "state": STR, "state_label": STR, "grid": OPT_STR, "street": OPT_STR, "merged_into": OPT_STR,
    "category_path": array(obj(["code", "name"], {"code": STR, "name": STR})), "notes": array(NOTE),
})
REQUEST = obj(["service_request_id", "status", "service_code", "requested_datetime"], {
    "service_request_id": STR, "status": {"enum": ["open", "closed"]}, "status_notes": OPT_STR,
    "service_name": OPT_STR, "service_code": STR, "description": {"type": ["string", "null"], "maxLength": 4000},
    "agency_responsible": OPT_STR, "service_notice": OPT_STR, "requested_datetime": DATETIME,
    "updated_datetime": OPT_DATETIME, "expected_datetime": OPT_DATETIME, "address": OPT_STR,
    "address_id": OPT_STR, "zipcode": OPT_STR, "lat": OPT_NUM, "long": OPT_NUM,
    "media_url": {"type": ["string", "null"], "format": "uri"}, "extended_attributes": EXTENDED,
})
REQUESTS = array(REQUEST)
CREATED = array(obj(["service_request_id"], {"service_request_id": STR, "token": OPT_STR,
                                              "service_notice": OPT_STR, "account_id": OPT_STR}), min_items=1)
TOKEN = array(obj(["service_request_id", "token"], {"service_request_id": STR, "token": STR}), min_items=1)


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if t is None and "enum" in schema:
        return ["string" if all(isinstance(v, str) for v in schema["enum"]) else "integer"]
    return t if isinstance(t, list) else [t]


def from_xml(element: ET.Element, schema: dict[str, Any]) -> Any:
    """An XML answer read back into the JSON structure, guided by the schema: an array takes every
    child, an object each named child, a scalar its text converted to the schema's type (an empty
    element is null where null is allowed)."""
    types = _types(schema)
    if "array" in types:
        return [from_xml(child, schema["items"]) for child in element]
    if "object" in types:
        props = schema.get("properties", {})
        return {child.tag: from_xml(child, props.get(child.tag, {"type": "string"})) for child in element}
    text = element.text
    if text is None or text == "":
        return None if "null" in types else ""
    if "boolean" in types:
        return {"true": True, "false": False}.get(text, text)
    if "integer" in types:
        return int(text)
    if "number" in types:
        return float(text)
    return text
