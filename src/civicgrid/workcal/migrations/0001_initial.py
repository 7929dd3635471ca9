"""The working calendar's tables, made by the case engine (``cases`` 0001, seeded by its 0002), taken
up here under their names: state only, nothing changes in the database."""

from django.db import migrations, models


MODELS = ('calendaryear', 'workingday')


def content_types_follow(apps, schema_editor):
    """The models' content types (and so their permissions and admin log entries) follow them."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not ContentType.objects.using(db).filter(app_label="workcal", model=model).exists():
            ContentType.objects.using(db).filter(app_label="cases", model=model).update(app_label="workcal")


def content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not ContentType.objects.using(db).filter(app_label="cases", model=model).exists():
            ContentType.objects.using(db).filter(app_label="workcal", model=model).update(app_label="cases")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0011_calendar_and_outbox_to_their_apps'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CalendarYear',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('year', models.PositiveSmallIntegerField(unique=True, verbose_name='year')),
                        ('source', models.CharField(default='chinese-calendar', max_length=60, verbose_name='source')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                    ],
                    options={
                        'verbose_name': 'calendar year',
                        'verbose_name_plural': 'calendar years',
                        'db_table': 'cases_calendaryear',
                        'ordering': ['year'],
                    },
                ),
                migrations.CreateModel(
                    name='WorkingDay',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField(unique=True, verbose_name='day')),
                        ('is_working', models.BooleanField(verbose_name='working day')),
                        ('name', models.CharField(blank=True, max_length=40, verbose_name='name')),
                    ],
                    options={
                        'verbose_name': 'working-calendar day',
                        'verbose_name_plural': 'working-calendar days',
                        'db_table': 'cases_workingday',
                        'ordering': ['day'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_back),
    ]
