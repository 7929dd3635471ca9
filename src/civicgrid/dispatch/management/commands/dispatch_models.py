"""``civicgrid dispatch models``: the stored model versions, the active one starred."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from civicgrid.core.commands import CivicCommand
from civicgrid.dispatch.selectors import models_list


class Command(CivicCommand):
    help = "List the dispatch model versions (* = active)."

    def run(self, *args: Any, **options: Any) -> None:
        rows = list(models_list())
        if not rows:
            self.stdout.write("no dispatch model yet: civicgrid dispatch train")
            return
        self.stdout.write("   version  created           docs  macro-F1  size MB  trained by  source")
        for r in rows:
            ev = (r.metrics or {}).get("evaluation") or {}
            f1 = f"{ev['macro_f1']:.3f}" if "macro_f1" in ev else "-"
            by = r.trained_by.get_username() if r.trained_by else "system"
            created = timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(f"{'*' if r.is_active else ' '} {r.version:8d}  {created}  {r.documents:5d}  "
                              f"{f1:>8}  {r.size / 2**20:7.1f}  {by:10}  {r.source}")
