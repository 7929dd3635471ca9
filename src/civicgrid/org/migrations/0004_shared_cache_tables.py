"""The database cache's tables, made by `migrate` (as the migrating role) so that production needs no
extra step: ``civicgrid_throttle`` holds the sign-in failure counts that every app process must share
(the default in production), ``civicgrid_cache`` the request limits when ``CIVICGRID_CACHE=database``.
Django's ``createcachetable`` makes them the same way (it skips a table that exists)."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLES = ("civicgrid_cache", "civicgrid_throttle")


def forward(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    for table in TABLES:
        command.create_table(schema_editor.connection.alias, table, dry_run=False)


def backward(apps, schema_editor):
    qn = schema_editor.connection.ops.quote_name
    for table in TABLES:
        schema_editor.execute(f"DROP TABLE IF EXISTS {qn(table)}")


class Migration(migrations.Migration):
    dependencies = [("org", "0003_drop_account_lockout")]
    operations = [migrations.RunPython(forward, backward)]
