"""Keeping the audit trail (网络安全法 art. 21: at least 6 months). Audit data older than that leaves
only by dropping whole monthly partitions, as the owner (migrating) role: never row by row, never by
the app role (it may not even UPDATE or DELETE the table; see core/dbroles.py).

The table ``audit_auditentry`` is not partitioned yet (docs/privacy-impact-assessment.md gives the
plan: a table partitioned by month on ``at``, partitions named ``audit_auditentry_YYYYMM``).
:func:`audit_drop_before` is guarded now: it refuses a month younger than 6 months, refuses on
SQLite, refuses when the table is not partitioned (saying so), refuses when the connected role does
not own the table, and otherwise drops the partitions of the months before the one given.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection, transaction
from django.utils import timezone

from civicgrid.audit.services import audit_record

KEEP_MONTHS = 6
TABLE = "audit_auditentry"


class AuditRetentionRefused(Exception):
    """The drop is refused; the message says why."""


def parse_month(text: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise AuditRetentionRefused(f"give the month as YYYY-MM, not {text!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def earliest_droppable(today: dt.date | None = None) -> dt.date:
    """The first month that must still be kept: data before it is older than 6 whole months."""
    today = today or timezone.localdate()
    index = today.year * 12 + today.month - 1 - KEEP_MONTHS
    return dt.date(index // 12, index % 12 + 1, 1)


def audit_drop_before(month: str, *, today: dt.date | None = None, dry_run: bool = False) -> list[str]:
    """Drop the audit partitions of the months before ``month`` (YYYY-MM); the partitions dropped."""
    before = parse_month(month)
    limit = earliest_droppable(today)
    if before > limit:
        raise AuditRetentionRefused(
            f"audit data is kept at least {KEEP_MONTHS} months: the latest month you may drop before is "
            f"{limit:%Y-%m}")
    if connection.vendor != "postgresql":
        raise AuditRetentionRefused("audit partitions exist on PostgreSQL only")
    with connection.cursor() as cur:
        cur.execute("SELECT c.relkind, pg_get_userbyid(c.relowner) = current_user FROM pg_class c "
                    "WHERE c.relname = %s AND c.relnamespace = 'public'::regnamespace", [TABLE])
        row = cur.fetchone()
        if row is None or row[0] != "p":
            raise AuditRetentionRefused(
                f"{TABLE} is not partitioned: nothing can be dropped by month yet (see "
                "docs/privacy-impact-assessment.md, 'Keeping the audit trail'); rows are never deleted one by one")
        if not row[1]:
            raise AuditRetentionRefused(f"only the owner role of {TABLE} (the migrating role) may drop partitions")
        cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname", [TABLE])
        names = [r[0] for r in cur.fetchall()]
    pattern = re.compile(rf"{TABLE}_(\d{{4}})(\d{{2}})")
    doomed = [n for n in names if (m := pattern.fullmatch(n)) and dt.date(int(m[1]), int(m[2]), 1) < before]
    if dry_run or not doomed:
        return doomed
    with transaction.atomic(), connection.cursor() as cur:
        audit_record(actor=None, action="audit.partitions.drop", target_type=TABLE, target_repr=f"before {month}",
                     extra={"partitions": doomed})
        for name in doomed:
            cur.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {connection.ops.quote_name(name)}")
            cur.execute(f"DROP TABLE {connection.ops.quote_name(name)}")
    return doomed
