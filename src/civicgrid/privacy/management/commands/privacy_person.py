from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.privacy.rights import person_correct, person_erase, person_export, person_find


class Command(BaseCommand):
    help = ("A person's rights (PIPL art. 45–47): find their records by phone or identity number (keyed hash, "
            "audited), then --export FILE (JSON, watermarked), --correct LABEL:ID:FIELD=VALUE, or --erase with "
            "--basis consent|retention. Acts as --as USER, who needs org.export_personal; every step is audited.")

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--phone")
        who.add_argument("--id-number")
        parser.add_argument("--as", dest="actor", required=True, help="the user name of the privacy officer")
        parser.add_argument("--export", metavar="FILE")
        parser.add_argument("--correct", metavar="LABEL:ID:FIELD=VALUE")
        parser.add_argument("--reason", default="", help="why (for --correct)")
        parser.add_argument("--erase", action="store_true")
        parser.add_argument("--basis", choices=("consent", "retention"))
        parser.add_argument("--note", default="", help="where the consent and its withdrawal are recorded")

    def handle(self, *args: Any, **o: Any) -> None:
        actor = get_user_model()._default_manager.filter(username=o["actor"], is_active=True).first()
        if actor is None:
            raise CommandError(f"--as: no active user {o['actor']!r}")
        kind, value = ("phone", o["phone"]) if o["phone"] else ("id_number", o["id_number"])
        try:
            records = person_find(actor=actor, kind=kind, value=value)
            for label, objs in records.found.items():
                self.stdout.write(f"{label}: {', '.join(str(x.pk) for x in objs)}")
            self.stdout.write(f"{records.count} records found")
            if o["export"]:
                data, mark = person_export(actor=actor, records=records)
                with open(o["export"], "w", encoding="utf-8") as fh:
                    json.dump(data, fh, ensure_ascii=False, indent=2)
                self.stdout.write(f"exported to {o['export']} ({mark.text})")
            if o["correct"]:
                target, _sep, assignment = o["correct"].rpartition(":")
                label, _sep2, pk = target.rpartition(":")
                field, _eq, new = assignment.partition("=")
                match = [x for x in records.found.get(label, []) if str(x.pk) == pk]
                if not match or not field:
                    raise CommandError("--correct: name one of the records found, as LABEL:ID:FIELD=VALUE")
                person_correct(actor=actor, instance=match[0], field=field, value=new, reason=o["reason"])
                self.stdout.write(f"corrected {label}:{pk} {field}")
            if o["erase"]:
                if not o["basis"]:
                    raise CommandError("--erase needs --basis consent|retention")
                done = person_erase(actor=actor, records=records, basis=o["basis"], note=o["note"])
                self.stdout.write(f"erased: {sum(done.values())} records ({done})")
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "not allowed") from None
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
