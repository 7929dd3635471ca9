"""The append-only tables refuse TRUNCATE too (row triggers do not see it): a statement trigger on
the audit trail and on the case timelines. A superuser's session may still truncate (it may drop
any trigger anyway, and Django's test flush truncates); the app role has no TRUNCATE privilege at
all (docs/deployment.md, core/dbroles.py)."""

from django.db import migrations

TABLES = ("audit_auditentry", "cases_timelineentry")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION civicgrid_refuse_truncate() RETURNS trigger AS $$ BEGIN "
        "IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN RETURN NULL; END IF; "
        "RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql;",
        params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate_trg BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION civicgrid_refuse_truncate();")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate_trg ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS civicgrid_refuse_truncate();")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_correlation_id_and_token_minter"),
                    ("cases", "0003_timeline_and_outbox_hardening")]
    operations = [migrations.RunPython(forward, backward)]
