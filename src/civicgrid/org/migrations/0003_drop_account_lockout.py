"""The account lock is gone from the model (sign-in is throttled instead), but its two columns stay in
the database for one more release: the previous release's code, still serving while this one's
migrations run, selects them with every user (docs/operations.md, "Upgrading without stopping";
tests/ops/test_upgrade.py). ``failed_logins`` gets a database default so that this code's inserts,
which no longer name it, pass its NOT NULL; ``locked_until`` is nullable already.

The next release drops both (``DROP COLUMN IF EXISTS``: databases migrated with the first form of
this migration, during development, have lost them already)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0002_api_tokens'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name='user',
                    name='failed_logins',
                    field=models.PositiveIntegerField(db_default=0, default=0, verbose_name='failed sign-ins'),
                ),
            ],
            state_operations=[
                migrations.RemoveField(
                    model_name='user',
                    name='failed_logins',
                ),
                migrations.RemoveField(
                    model_name='user',
                    name='locked_until',
                ),
            ],
        ),
    ]
