"""Upgrading without stopping (docs/operations.md): the previous release's code, still serving while
the new one's migrations have run, takes in reports on the new schema — with and without photos, from
a resident and from a grid worker — and the new code finds them whole (the same event, timeline and
clocks as a report it took in itself); then the new code's intake works on the same database.

The previous release is ``PREVIOUS`` (its ``src`` tree taken from git); the test runs its code in a
subprocess against the test database that the new code migrated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from civicgrid.cases.models import Case, TimelineEntry, Timer
from civicgrid.core.testing import REPO, require
from civicgrid.events import photos as stored
from civicgrid.events.models import EventDetail
from civicgrid.events.photos import PhotoUpload
from civicgrid.events.tests.conftest import POINT_A

from . import procs
from .conftest import T0, jpeg, report

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="the old code runs in its own process on a shared database; `make test` runs this"),
]

# The release before this one. Move it forward when a release is made (docs/operations.md).
PREVIOUS = "35c9fee"

# Runs with the OLD code on PYTHONPATH: three reports through its intake service, their ids printed.
OLD_INTAKE = """
import datetime as dt, json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from civicgrid.events.photos import PhotoUpload
from civicgrid.events.services import EventInput, event_report

now = dt.datetime.fromisoformat(sys.argv[1])
photo = open(sys.argv[2], "rb").read()
lon, lat = float(sys.argv[3]), float(sys.argv[4])
bob = get_user_model().objects.get(username="bob")
made = {}
for name, actor, channel, photos in (
        ("resident", None, "resident", ()),
        ("resident_photo", None, "resident", [PhotoUpload("a.jpg", photo)]),
        ("patrol_photo", bob, "patrol", [PhotoUpload("b.jpg", photo)])):
    data = EventInput(text="小区门口上水井盖缺失，有行人掉落危险", category="C0101", lon=lon, lat=lat,
                      channel=channel)
    made[name] = event_report(actor=actor, data=data, photos=photos, now=now).case.pk
print(json.dumps(made))
"""


def previous_release(tmp: Path) -> Path:
    """The previous release's ``src`` tree, exported from git into ``tmp``."""
    archive, out = tmp / "previous.tar", tmp / "previous"
    out.mkdir()
    try:
        done = subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(archive), PREVIOUS, "src"],
                              capture_output=True, text=True, timeout=60)
        problem = done.stderr.strip() if done.returncode else ""
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = f"git did not run: {exc}"
    require(not problem, f"the previous release {PREVIOUS} from git (a shallow clone? fetch the full history; "
                         f"{problem})")
    subprocess.run(["tar", "-x", "-f", str(archive), "-C", str(out)], check=True, timeout=60)
    return out / "src"


def shape(case: Case) -> dict[str, Any]:
    """What an event is made of, as the new code reads it."""
    detail = EventDetail.objects.get(case=case)
    steps = TimelineEntry.objects.filter(case=case).order_by("at", "pk")
    return {
        "state": case.state, "channel": case.channel, "category": case.category.code, "grid": case.grid_id,
        "reporter": case.reporter_id, "tracking_code": bool(case.tracking_code), "routing": detail.routing,
        "department": detail.suggested_department_id, "location_source": detail.location_source,
        "photos": [(p["sha256"], (stored.media_root() / p["path"]).is_file()) for p in detail.photos],
        "timeline": [(s.action, s.from_state, s.to_state, s.public, len(s.attachments)) for s in steps],
        "clocks": sorted((t.kind, t.state, t.due_at) for t in Timer.objects.filter(case=case)),
    }


def test_the_previous_release_takes_in_reports_on_the_new_schema_and_the_new_code_reads_them_whole(
        world: Any, media_root: Path, tmp_path: Path):
    src = previous_release(tmp_path)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg())
    lon, lat = POINT_A
    env = procs.environment(tmp_path, CIVICGRID_ENV="development", CIVICGRID_DEBUG="false",
                            CIVICGRID_MEDIA_ROOT=media_root, PYTHONPATH=src, CIVICGRID_LOG_LEVEL="WARNING")
    old = subprocess.run([sys.executable, "-c", OLD_INTAKE, T0.isoformat(), str(photo), str(lon), str(lat)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert old.returncode == 0, f"the previous release's intake failed on the new schema:\n{old.stderr[-4000:]}"
    made = json.loads(old.stdout.strip().splitlines()[-1])

    # The same reports through the new code: what a whole event looks like.
    content = photo.read_bytes()
    new = {
        "resident": report(None, channel="resident").case,
        "resident_photo": report(None, channel="resident", photos=[PhotoUpload("a.jpg", content)]).case,
        "patrol_photo": report(world.bob, channel="patrol", photos=[PhotoUpload("b.jpg", content)]).case,
    }
    for name, pk in made.items():
        case = Case.objects.get(pk=pk)
        assert shape(case) == shape(new[name]), name
    assert shape(Case.objects.get(pk=made["resident"]))["timeline"]
    assert shape(Case.objects.get(pk=made["resident"]))["clocks"]
    assert [ok for _sha, ok in shape(Case.objects.get(pk=made["resident_photo"]))["photos"]] == [True]
    assert shape(Case.objects.get(pk=made["patrol_photo"]))["reporter"] == world.bob.pk
