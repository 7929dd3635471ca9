"""Production is the safe default: debug off, secrets required, HTTPS enforced, and every answer
carries a Content-Security-Policy that runs no inline script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import civicgrid

SRC = Path(civicgrid.__file__).resolve().parent
SHOW = ("import django, json; django.setup(); from django.conf import settings as s; print(json.dumps("
        "[s.ENVIRONMENT, s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, getattr(s, 'SECURE_PROXY_SSL_HEADER', None)]))")
SECRETS = {"CIVICGRID_SECRET_KEY": "k" * 60, "CIVICGRID_HASH_KEY": "h" * 40,
           "CIVICGRID_ENCRYPTION_KEYS": "ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGk="}


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_")}
    base.update(DJANGO_SETTINGS_MODULE="civicgrid.settings", PYTHONPATH=str(SRC.parent), DATABASE_URL="")
    return subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                          timeout=120, check=False)


def test_with_no_environment_named_the_settings_are_productions_and_refuse_to_start_without_a_secret():
    result = run("from civicgrid.cli import main; main(['check'])")
    assert result.returncode != 0
    assert "CIVICGRID_SECRET_KEY must be set in production" in result.stderr
    assert "CIVICGRID_ENV=development" in result.stderr  # and says how to try it out locally


def test_production_turns_debug_off_and_enforces_https():
    result = run(f"import json; {SHOW}", **SECRETS)
    assert result.returncode == 0, result.stderr
    env, debug, redirect, hsts, secure_session, secure_csrf, proxy = __import__("json").loads(result.stdout)
    assert (env, debug, redirect, secure_session, secure_csrf, proxy) == ("production", False, True, True, True,
                                                                          None)
    assert hsts >= 180 * 24 * 3600


def test_behind_a_proxy_https_is_read_from_the_forwarded_header_when_asked():
    result = run(SHOW, **SECRETS, CIVICGRID_BEHIND_PROXY="true", CIVICGRID_SSL_REDIRECT="false")
    assert result.returncode == 0, result.stderr
    values = __import__("json").loads(result.stdout)
    assert values[2] is False and values[6] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_development_is_said_explicitly_and_runs_without_secrets():
    result = run(SHOW, CIVICGRID_ENV="development")
    assert result.returncode == 0, result.stderr
    values = __import__("json").loads(result.stdout)
    assert values[:3] == ["development", True, False]


@pytest.mark.django_db
def test_every_page_carries_a_policy_that_runs_only_our_own_scripts(client):
    for url in ("/signin/", "/report/", "/api/v1/openapi.json"):
        policy = client.get(url)["Content-Security-Policy"]
        script = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert script.split() == ["script-src", "'self'"], policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_the_map_tile_host_is_allowed_as_an_image_source():
    from civicgrid.core.security import tile_source

    assert tile_source("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert tile_source("") == ""


# web/agent.html's inline script is being rewritten by the 12345-desk work; its job is done by
# web/static/web/app.js (the CSP blocks the inline copy). Remove it from the list once it is gone.
INLINE_ALLOWED: set[str] = set()


def test_no_template_has_an_inline_script_or_event_handler_attribute():
    found = []
    for path in SRC.rglob("templates/**/*.html"):
        rel = path.relative_to(SRC).as_posix()
        if rel in INLINE_ALLOWED:
            continue
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "application/json" not in tag:
                found.append(f"{rel}: {tag}")
        found += [f"{rel}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        found += [f"{rel}: javascript:" for _ in re.findall(r"javascript:", text, re.I)]
    assert not found
