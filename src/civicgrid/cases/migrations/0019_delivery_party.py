"""Delivery.party_id (a plain number) becomes a foreign key to the case's party: the state only, the
column stays as it is (no constraint, no index: a party's rows are never deleted apart from the case)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0018_documents"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="delivery", name="party_id"),
                migrations.AddField(
                    model_name="delivery",
                    name="party",
                    field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL,
                                            related_name="deliveries", to="cases.party", verbose_name="party"),
                ),
            ],
            database_operations=[],
        ),
    ]
