"""On PostgreSQL the database itself refuses UPDATE and DELETE on the audit trail."""

from django.db import migrations

from civicgrid.core.migrations_util import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]
    operations = [append_only_trigger("audit_auditentry", "audit entries are append-only")]
