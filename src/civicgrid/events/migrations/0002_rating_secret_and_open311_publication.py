"""The reporter's rating secret (kept as a keyed hash) and the Open311 publication rule."""

import civicgrid.events.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='Open311Publication',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('channels', models.JSONField(blank=True, default=civicgrid.events.models._default_channels, verbose_name='public channels')),
                ('category_kinds', models.JSONField(blank=True, default=civicgrid.events.models._default_kinds, verbose_name='public category kinds')),
                ('request_types', models.JSONField(blank=True, default=civicgrid.events.models._default_request_types, verbose_name='public request types (codes)')),
                ('without_request_type', models.BooleanField(default=True, verbose_name='publish events without a request type')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'Open311 publication rule',
                'verbose_name_plural': 'Open311 publication rule',
            },
        ),
        migrations.AddField(
            model_name='eventdetail',
            name='rating_secret_hash',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=64, verbose_name='rating secret (keyed hash)'),
        ),
    ]
