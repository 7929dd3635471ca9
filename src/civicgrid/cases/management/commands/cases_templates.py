"""``civicgrid cases templates``: list the document templates, or replace one with a Word file.

    civicgrid cases templates                         # what each kind is generated from now
    civicgrid cases templates work_order FILE.docx [--case-type event] [--as USERNAME]

A replacement becomes the active template of the kind (for the case type, or every type) as its next
version, through ``documents.template_replace`` (checked by rendering it, audited); the shipped
template applies to any kind with no active one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from civicgrid.cases import registry
from civicgrid.cases.documents import default_template, template_for, template_replace
from civicgrid.core.commands import CivicCommand


class Command(CivicCommand):
    help = "List the document templates, or make a Word file the template of a kind of document."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("kind", nargs="?", choices=registry.DOCUMENT_KINDS, help="the kind of document")
        parser.add_argument("file", nargs="?", help="the Word template (.docx with docxtpl's tags)")
        parser.add_argument("--case-type", default="", help="only for this case type (default: every type)")

    def run(self, *args: Any, **options: Any) -> None:
        kind, file = options.get("kind"), options.get("file")
        if not kind:
            codes = ["", *(t.code for t in registry.all_types())]
            for k in registry.DOCUMENT_KINDS:
                for code in codes:
                    row = template_for(k, code)
                    if row is not None and row.case_type == code:
                        self.stdout.write(f"{k}\t{code or '*'}\tv{row.version}\t{row.name}\t{row.uploaded_at:%Y-%m-%d}")
                if template_for(k, "") is None and default_template(k) is not None:
                    self.stdout.write(f"{k}\t*\tshipped\t{default_template(k)}")
            return
        if not file:
            raise CommandError("give the Word file to use as the template")
        path = Path(file)
        row = template_replace(actor=self.actor(), kind=kind, case_type=options.get("case_type") or "",
                               content=path.read_bytes(), name=path.name)
        scope = row.case_type or "every case type"
        self.stdout.write(f"{row.kind} ({scope}) is now template v{row.version}: {row.name}")
