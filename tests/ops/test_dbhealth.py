"""A reused PostgreSQL connection is checked only after it sat idle (civicgrid.ops.dbhealth): a
database restart while the app was quiet is survived by the next request, and a busy connection costs
no extra round trip."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.db import connections
from django.test import Client

from civicgrid.ops import dbhealth


def _default():
    # looked up when the test runs: an earlier test may have replaced the connection objects
    return connections["default"]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def postgres():
    if _default().vendor != "postgresql":
        pytest.skip("the connection check is for PostgreSQL")


def test_django_per_request_health_check_is_off():
    # the round trip on every request is what this replaces
    assert not _default().settings_dict["CONN_HEALTH_CHECKS"]


def test_an_idle_connection_killed_by_a_restart_is_replaced_before_the_request_runs(postgres, settings):
    connection = _default()
    settings.CIVICGRID_DB_HEALTH_IDLE_SECONDS = 0.2
    client = Client(raise_request_exception=False)
    assert client.get("/healthz/app").status_code == 200
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    # what a restart does to the backend: it goes away under the open connection
    import psycopg

    with psycopg.connect(_dsn(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    with psycopg.connect(_dsn(), autocommit=True) as other:  # the backend is gone (it ends asynchronously)
        for _ in range(100):
            if not other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                break
            time.sleep(0.05)
    time.sleep(0.3)  # the connection sat idle longer than the setting
    answer = client.get("/healthz/app")
    assert answer.status_code == 200, answer.content
    assert connection.connection.info.backend_pid != pid


def test_a_busy_connection_is_not_checked(postgres, settings):
    connection = _default()
    settings.CIVICGRID_DB_HEALTH_IDLE_SECONDS = 60
    client = Client(raise_request_exception=False)
    client.get("/healthz/app")
    with mock.patch.object(type(connection), "is_usable", autospec=True, return_value=True) as checked:
        for _ in range(5):
            assert client.get("/healthz/app").status_code == 200
    assert checked.call_count == 0


def test_a_connection_idle_longer_than_the_setting_is_checked_once(postgres, settings):
    connection = _default()
    settings.CIVICGRID_DB_HEALTH_IDLE_SECONDS = 60
    connection.ensure_connection()
    setattr(connection, dbhealth._ATTR, time.monotonic() - 120)
    with mock.patch.object(type(connection), "is_usable", autospec=True, return_value=True) as checked:
        dbhealth.check_idle_connections()
        dbhealth.mark_idle()
        dbhealth.check_idle_connections()  # just used: not checked again
    assert checked.call_count == 1


def _dsn() -> str:
    s = _default().settings_dict
    parts = [f"dbname={s['NAME']}", f"host={s['HOST'] or '127.0.0.1'}", f"port={s['PORT'] or 5432}",
             f"user={s['USER'] or 'postgres'}"]
    if s.get("PASSWORD"):
        parts.append(f"password={s['PASSWORD']}")
    return " ".join(parts)
