"""Settings that parse but make no sense are system checks of the app they concern (``civicgrid
check`` and every command run them); settings.py itself imports only ``civicgrid.core.env``."""

from __future__ import annotations

import ast
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.test import override_settings

from civicgrid.core.checks import database_check, proxy_hops_check, secret_key_check
from civicgrid.core.tests.test_security_settings import run

SETTINGS = Path(__file__).resolve().parents[2] / "settings.py"


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_settings_import_nothing_of_civicgrid_but_the_environment_reader():
    imported = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert {m for m in imported if m.startswith("civicgrid")} == {"civicgrid.core.env"}


def test_a_database_other_than_sqlite_or_postgresql_is_an_error():
    assert database_check() == []
    with mock.patch.dict(settings.DATABASES["default"], ENGINE="django.db.backends.mysql"):
        [error] = database_check()
    assert error.id == "civicgrid.core.E001" and "django.db.backends.mysql" in error.msg


def test_production_needs_a_long_secret_that_is_not_the_development_one():
    with override_settings(ENVIRONMENT="production", SECRET_KEY="k" * 60):
        assert secret_key_check() == []
    with override_settings(ENVIRONMENT="production", SECRET_KEY="short"):
        assert ids(secret_key_check()) == ["civicgrid.core.E002"]
    with override_settings(ENVIRONMENT="production",
                           SECRET_KEY="civicgrid-development-only-secret-key-not-for-production-use-0000"):
        assert ids(secret_key_check()) == ["civicgrid.core.E002"]
    with override_settings(ENVIRONMENT="development", SECRET_KEY="short"):
        assert secret_key_check() == []


def test_proxy_hops_without_a_proxy_and_a_proxy_without_hops_are_warned_about():
    with override_settings(CIVICGRID_PROXY_HOPS=0, CIVICGRID_BEHIND_PROXY=False):
        assert proxy_hops_check() == []
    with override_settings(CIVICGRID_PROXY_HOPS=1, CIVICGRID_BEHIND_PROXY=True):
        assert proxy_hops_check() == []
    with override_settings(CIVICGRID_PROXY_HOPS=1, CIVICGRID_BEHIND_PROXY=False):
        assert ids(proxy_hops_check()) == ["civicgrid.core.W001"]
    with override_settings(CIVICGRID_PROXY_HOPS=0, CIVICGRID_BEHIND_PROXY=True):
        assert ids(proxy_hops_check()) == ["civicgrid.core.W002"]


def test_the_command_line_stops_on_a_setting_that_makes_no_sense():
    """Working hours that parse as text but are no hours: start-up reports the engine's check."""
    result = run("from civicgrid.cli import main; main(['check'])", CIVICGRID_ENV="development",
                 CIVICGRID_WORKING_HOURS="17:00-09:00")
    assert result.returncode != 0
    assert "civicgrid.workcal.E001" in result.stderr and "CIVICGRID_WORKING_HOURS" in result.stderr
    result = run("from civicgrid.cli import main; main(['check'])", CIVICGRID_ENV="development",
                 CIVICGRID_EXTENSION_MAX="working_days=five")
    assert result.returncode != 0 and "CIVICGRID_EXTENSION_MAX: 'working_days=five' is not key=number" in result.stderr
