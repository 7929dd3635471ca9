"""Sign-in failure counts are shared by every app process in production: they live in the database
(the ``throttle`` cache, table ``civicgrid_throttle`` made by ``migrate``), so an attacker spreading
guesses over the app processes gets one allowance, not one per process."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test import Client

from civicgrid.core.ratelimit import THROTTLE_CACHE
from civicgrid.core.tests.test_security_settings import SECRETS, run
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"
CACHES = "import django, json; django.setup(); from django.conf import settings as s; " \
         "print(json.dumps({k: v['BACKEND'].rsplit('.', 1)[1] for k, v in s.CACHES.items()}))"


def backends(**env: str) -> dict[str, str]:
    result = run(CACHES, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_counts_sign_in_failures_in_the_database_and_development_in_the_process():
    assert backends(**SECRETS) == {"default": "LocMemCache", "throttle": "DatabaseCache"}
    assert backends(CIVICGRID_ENV="development") == {"default": "LocMemCache", "throttle": "LocMemCache"}
    assert backends(CIVICGRID_ENV="development", CIVICGRID_CACHE="database") == {
        "default": "DatabaseCache", "throttle": "DatabaseCache"}


def test_migrate_makes_the_cache_tables():
    assert {"civicgrid_cache", "civicgrid_throttle"} <= set(connection.introspection.table_names())


DB_THROTTLE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "civicgrid_throttle"}


def test_the_cool_down_lives_in_the_table_every_app_process_reads(cast, settings):
    settings.CACHES = {**django_settings.CACHES, "throttle": DB_THROTTLE}  # production's store
    for _ in range(settings.LOGIN_MAX_FAILURES):
        Client().post("/signin/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR=ATTACKER)
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM civicgrid_throttle")
        assert cur.fetchone()[0] >= 1
    # another process: a cache object of its own, nothing in memory, only the table
    settings.CACHES = {**django_settings.CACHES, "throttle": {**DB_THROTTLE, "OPTIONS": {"MAX_ENTRIES": 5000}}}
    assert isinstance(caches[THROTTLE_CACHE], DatabaseCache)
    response = Client().post("/signin/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429
