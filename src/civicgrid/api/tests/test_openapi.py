"""The OpenAPI document is served, valid, and lists every operation of the assembled routers."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

EXPECTED = {
    ("get", "/api/v1/geo/lookup"),
    ("get", "/api/v1/regions"),
    ("get", "/api/v1/regions/{code}"),
    ("patch", "/api/v1/regions/{code}"),
    ("get", "/api/v1/regions/{code}/geojson"),
    ("get", "/api/v1/departments"),
    ("get", "/api/v1/taxonomy/categories"),
    ("get", "/api/v1/taxonomy/request-types"),
    ("post", "/api/v1/dispatch/suggest"),
    ("get", "/api/v1/dispatch/cases/{case_id}/duplicates"),
    ("post", "/api/v1/dispatch/cases/{case_id}/correction"),
    ("post", "/api/v1/events"),
    ("post", "/api/v1/events/webhook"),
    ("get", "/api/v1/cases"),
    ("get", "/api/v1/cases/{case_id}"),
    ("post", "/api/v1/cases/{case_id}/actions/{action}"),
    ("post", "/api/v1/cases/{case_id}/merge"),
    ("post", "/api/v1/cases/{case_id}/recall"),
    ("post", "/api/v1/cases/{case_id}/supervise"),
    ("post", "/api/v1/cases/{case_id}/escalate"),
    ("post", "/api/v1/cases/{case_id}/reopen"),
    ("post", "/api/v1/cases/{case_id}/rate"),
    ("post", "/api/v1/cases/{case_id}/requests"),
    ("post", "/api/v1/cases/{case_id}/requests/{request_id}/decision"),
    ("post", "/api/v1/cases/{case_id}/resume"),
    ("get", "/api/v1/metrics"),
    ("get", "/api/v1/metrics/table"),
    ("get", "/api/v1/metrics/{metric}/cases"),
}


def test_the_openapi_document_is_valid_and_lists_every_operation(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    validate(doc)
    operations = {(method, path) for path, item in doc["paths"].items() for method in item}
    assert EXPECTED <= operations
    for path, item in doc["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary"), f"{where} has no summary"
            assert op.get("tags"), f"{where} has no tags"
            documented = set(op["responses"])
            assert "422" in documented, f"{where} does not document invalid input"
            if op.get("security"):
                assert {"401", "403"} <= documented, f"{where} does not document 401/403"
            if "{" in path:
                assert "404" in documented, f"{where} does not document 404"
            for status in documented - {"200", "201", "204"}:
                schema = op["responses"][status]["content"]["application/json"]["schema"]
                assert schema, f"{where} {status} has no body schema"


def test_the_public_endpoints_document_their_rate_limit(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert "429" in doc["paths"]["/api/v1/events"]["post"]["responses"]
    assert "429" in doc["paths"]["/api/v1/events/track/{code}"]["get"]["responses"]
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "fields"]


def test_the_lookup_endpoint_answers_with_the_chain(client, cast):
    client.force_login(cast.alice)
    body = client.get("/api/v1/geo/lookup", {"lon": 114.02, "lat": 22.51}).json()
    assert body["method"] == "grid" and body["grid"]["code"] == "440301001001001"
    assert body["district"] == {"code": "440301", "name": "甲区"}


def test_the_lookup_endpoint_answers_a_resident_without_an_account_and_is_rate_limited(client, cast, settings):
    # the resident's report page says where the pin landed; region names are public reference data
    body = client.get("/api/v1/geo/lookup", {"lon": 114.02, "lat": 22.51}).json()
    assert body["grid"]["code"] == "440301001001001" and body["street"]["code"] == "440301001"
    assert client.get("/api/v1/geo/lookup", {"lon": 116.4, "lat": 39.9}).json()["method"] == "unassigned"  # Beijing
    doc = client.get("/api/v1/openapi.json").json()
    assert "429" in doc["paths"]["/api/v1/geo/lookup"]["get"]["responses"]
    settings.CIVICGRID_RATE_PUBLIC_PER_MINUTE = 1
    assert client.get("/api/v1/geo/lookup", {"lon": 114.02, "lat": 22.51}).status_code == 429


def test_the_lookup_endpoint_names_a_bad_field(client, cast):
    client.force_login(cast.alice)
    r = client.get("/api/v1/geo/lookup", {"lon": "east", "lat": 22.51})
    assert r.status_code == 422 and "lon" in r.json()["error"]["fields"]
    r = client.get("/api/v1/geo/lookup", {"lon": 114.0, "lat": 22.5, "crs": "bd09"})
    assert r.status_code == 422 and "crs" in r.json()["error"]["fields"]


def test_the_api_docs_page_loads_its_assets_from_this_deployment_not_a_cdn(client, cast):
    client.force_login(cast.alice)
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_no_two_api_schemas_share_a_name_with_different_fields():
    """The OpenAPI document names each body and answer schema by its class name: two different
    schemas of one name would be documented as one (an endpoint's body or answer described wrongly,
    as happened when a new app named its own ``ScoreOut``)."""
    import importlib
    import inspect
    import json
    import pkgutil

    from pydantic import BaseModel

    import civicgrid

    seen: dict[str, set[str]] = {}
    for info in pkgutil.iter_modules(civicgrid.__path__):
        try:
            module = importlib.import_module(f"civicgrid.{info.name}.api")
        except ModuleNotFoundError:
            continue
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                seen.setdefault(name, set()).add(json.dumps(obj.model_json_schema(), sort_keys=True))
    assert [name for name, schemas in seen.items() if len(schemas) > 1] == []
