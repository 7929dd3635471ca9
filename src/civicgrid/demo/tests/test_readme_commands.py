"""The README's `civicgrid …` commands run as printed on the demo city (issue 14): every command in
the README's ``sh`` blocks, except the block that builds another city in a new database, runs against
the default demo map (``civicgrid worker`` for one round), from the repository's root."""

from __future__ import annotations

import re
import shlex
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands

from civicgrid.cli import _translate
from civicgrid.geo.selectors import lookup_index_invalidate

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[4]
README = ROOT / "README.md"


def readme_demo_commands() -> list[list[str]]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S):
        if "export DATABASE_URL" in block:  # your own city, in a new database: not the demo's
            continue
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["civicgrid"]:
                commands.append(words[1:])
    return commands


def test_the_readme_names_the_demo_commands_it_promises():
    commands = [" ".join(c[:2]) for c in readme_demo_commands()]
    assert {"geo locate", "worker", "cases sweep", "workcal calendar", "events import", "org token"} <= set(commands)


def test_every_readme_command_runs_on_the_demo_city_as_printed(monkeypatch):
    call_command("demo_load", "--events", "0", "--no-progress", stdout=StringIO(), stderr=StringIO())
    lookup_index_invalidate()  # an earlier test's rolled-back city may have left the same boundary version
    monkeypatch.chdir(ROOT)  # the README's paths are the repository's
    names = set(get_commands())
    outputs = {}
    for words in readme_demo_commands():
        args = _translate([*words, "--once"] if words == ["worker"] else words, names)
        assert isinstance(args, list), words
        out = StringIO()
        call_command(*args, stdout=out, stderr=StringIO())  # a CommandError fails the test
        outputs[" ".join(words)] = out.getvalue()
    locate = next(text for cmd, text in outputs.items() if cmd.startswith("geo locate"))
    assert "百合社区第1网格" in locate and "云川市" in locate
    imported = next(text for cmd, text in outputs.items() if cmd.startswith("events import") and "--commit" in cmd)
    assert re.search(r"(已导入|imported)\D*5", imported), imported
