"""The working calendar moved to ``civicgrid.workcal`` and the notification outbox to
``civicgrid.notify``: their models leave the engine's state here, and the first migration of each
new app takes them up under the same table names. Nothing happens in the database (no table is
renamed, no row moves)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0010_ops_worker_heartbeat'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='CalendarYear'),
                migrations.DeleteModel(name='WorkingDay'),
                migrations.DeleteModel(name='InboxMessage'),
                migrations.DeleteModel(name='Notification'),
            ],
            database_operations=[],
        ),
    ]
