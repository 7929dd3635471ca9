"""After `make demo`, `civicgrid` in another terminal acts on the demo's database: it reads
var/demo.env when the file is there (variables set in the environment win)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import civicgrid

SRC = Path(civicgrid.__file__).resolve().parent.parent
SHOW = ("from civicgrid.cli import main; main(['shell', '-c', 'import json; from django.conf import settings as s; "
        "print(json.dumps([s.ENVIRONMENT, str(s.DATABASES[\"default\"][\"NAME\"]), s.DEBUG]))'])")


def run(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_") and k != "DATABASE_URL"}
    base.update(PYTHONPATH=str(SRC))
    return subprocess.run([sys.executable, "-c", SHOW], cwd=cwd, env={**base, **env}, capture_output=True,
                          text=True, timeout=120, check=False)


def write_demo_env(tmp_path: Path) -> Path:
    var = tmp_path / "var"
    var.mkdir()
    (var / "demo.env").write_text(
        "# written by make demo\nCIVICGRID_ENV=development\n"
        f"CIVICGRID_DATA_DIR={var}\nDATABASE_URL=sqlite:///{var}/demo.sqlite3\nCIVICGRID_DEMO=true\n",
        encoding="utf-8")
    return var


def test_the_cli_reads_the_demo_env_and_acts_on_the_demo_database(tmp_path):
    var = write_demo_env(tmp_path)
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["development", f"{var}/demo.sqlite3", True]
    assert f"using the demo's settings from {var / 'demo.env'}" in result.stderr


def test_a_variable_set_in_the_environment_wins_over_the_demo_env(tmp_path):
    write_demo_env(tmp_path)
    result = run(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/other.sqlite3")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])[1] == f"{tmp_path}/other.sqlite3"


def test_without_a_demo_env_the_cli_is_in_production_and_says_what_is_missing(tmp_path):
    result = run(tmp_path)
    assert result.returncode != 0
    assert "CIVICGRID_SECRET_KEY must be set in production" in result.stderr


# --- CIVICGRID_MIGRATE_DATABASE_URL: migrations as the owning role (docs/deployment.md) ----------------


def civicgrid(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_") and k != "DATABASE_URL"}
    base.update(PYTHONPATH=str(SRC), CIVICGRID_ENV="development")
    return subprocess.run([sys.executable, "-m", "civicgrid.cli", *args], cwd=cwd, env={**base, **env},
                          capture_output=True, text=True, timeout=300, check=False)


def tables(path: Path) -> set[str]:
    import sqlite3

    if not path.exists():
        return set()
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrate_connects_with_the_migrating_roles_url_and_other_commands_with_the_apps(tmp_path):
    owner, app = tmp_path / "owner.sqlite3", tmp_path / "app.sqlite3"
    urls = {"CIVICGRID_MIGRATE_DATABASE_URL": f"sqlite:///{owner}", "DATABASE_URL": f"sqlite:///{app}"}
    migrated = civicgrid(tmp_path, "migrate", "contenttypes", "--noinput", **urls)
    assert migrated.returncode == 0, migrated.stderr
    assert "django_content_type" in tables(owner) and "django_content_type" not in tables(app)
    cached = civicgrid(tmp_path, "createcachetable", **urls, CIVICGRID_CACHE="database")
    assert cached.returncode == 0, cached.stderr
    assert "civicgrid_cache" in tables(owner) and "civicgrid_cache" not in tables(app)
    shown = civicgrid(tmp_path, "shell", "-c", "from django.conf import settings as s; "
                      "print(s.DATABASES['default']['NAME'])", **urls)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == str(app)  # everything else runs as the app role
    alone = civicgrid(tmp_path, "migrate", "contenttypes", "--noinput", DATABASE_URL=f"sqlite:///{app}")
    assert alone.returncode == 0, alone.stderr
    assert "django_content_type" in tables(app)  # without the variable, migrate uses DATABASE_URL
