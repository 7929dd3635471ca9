"""Schemathesis over the whole API (``/api/v1/openapi.json``) on PostgreSQL, with a token of each
scope and none: no request it generates, fitting the schema or not, may answer a server error or an
answer its operation does not describe. Small and derandomized here (a few minutes in ``make test``);
the large run is ``bench/schemathesis_run.py`` (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from civicgrid.api.tests.conftest import bearer, report, token

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="PostgreSQL refuses what SQLite keeps (NUL characters, 64-bit overflows): "
                              "`make test` runs this in its PostgreSQL pass"),
]

MAX_EXAMPLES = 6  # per operation, per generation mode (fitting the schema and not), per client


@pytest.fixture
def clients(world: Any, units: Any, settings: Any) -> dict[str, dict[str, str]]:
    settings.CIVICGRID_RATE_PUBLIC_PER_MINUTE = 0  # reach the code behind the limit
    report(None)
    report(units.rita, text="路灯不亮")
    return {"anonymous": {},
            "read": bearer(token(world.alice, "read")),
            "write": bearer(token(world.alice, "write")),
            "intake": bearer(token(world.admin_a, "intake"))}


def test_no_generated_request_gets_a_server_error_or_an_undescribed_answer(clients):
    from civicgrid.api.tests.fuzz import fuzz

    result = fuzz(clients, max_examples=MAX_EXAMPLES)
    print(result.summary())
    assert result.requests > 1000
    assert result.server_errors == 0 and not result.failures, "\n".join(result.failures[:40])
