"""A real third-party client against our live test server over HTTP: the PyPI package `georeport`
(0.3.1) reads the service list, a service definition, the request list and one request, in JSON
and in XML. It has no call for discovery nor for creating a request, so those go through
`requests` (the client's own HTTP library) as any Open311 client sends them."""

from __future__ import annotations

import pytest
import requests
from georeport import GeoReport

from civicgrid.api.tests.conftest import token
from civicgrid.cases.models import Case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_works_against_our_server(live_server, world, fmt):
    root = f"{live_server.url}/open311/v2"
    found = requests.get(f"{root}/discovery.{fmt}", timeout=10)
    assert found.status_code == 200 and "GeoReport_v2" in found.text

    key = token(world.admin_a, "intake")
    made = requests.post(f"{root}/requests.{fmt}", timeout=10, data={
        "api_key": key, "jurisdiction_id": "440300", "service_code": "C0101", "lat": "22.51", "long": "114.02",
        "description": "小区门口上水井盖缺失", "phone": "13800138000", "attribute[request_type]": "help"})
    assert made.status_code == 201, made.text
    code = Case.objects.get().tracking_code
    assert code in made.text

    client = GeoReport(root, jurisdiction="440300", output_format=fmt)
    services = client.get_service_list()
    assert "C0101" in [s["service_code"] for s in services]
    definition = client.get_service_definition("C0101")
    assert definition["service_code"] == "C0101"
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    assert "request_type" in [a["code"] for a in attributes]

    listed = client.get_service_requests(status="open")
    listed = listed if isinstance(listed, list) else [listed]  # XML: one request reads as one element
    assert [r["service_request_id"] for r in listed] == [code]
    one = client.get_service_request(code)
    assert one["service_request_id"] == code and one["status"] == "open" and one["service_code"] == "C0101"
    assert "13800138000" not in str(one)

    with pytest.raises(requests.HTTPError) as missing:
        client.get_service_request("NOPE")
    assert missing.value.response.status_code == 404
