"""The notification outbox's tables, made by the case engine (``cases`` 0001 and later), taken up
here under their names: state only, nothing changes in the database."""

import civicgrid.privacy.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MODELS = ('inboxmessage', 'notification')


def content_types_follow(apps, schema_editor):
    """The models' content types (and so their permissions and admin log entries) follow them."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not ContentType.objects.using(db).filter(app_label="notify", model=model).exists():
            ContentType.objects.using(db).filter(app_label="cases", model=model).update(app_label="notify")


def content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not ContentType.objects.using(db).filter(app_label="cases", model=model).exists():
            ContentType.objects.using(db).filter(app_label="notify", model=model).update(app_label="cases")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0011_calendar_and_outbox_to_their_apps'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('geo', '0003_region_name_validator'),
        ('org', '0004_shared_cache_tables'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='InboxMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('subject', models.CharField(max_length=200, verbose_name='subject')),
                        ('body', models.TextField(blank=True, verbose_name='body')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('read_at', models.DateTimeField(blank=True, null=True, verbose_name='read at')),
                        ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cases.case')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='inbox', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'message',
                        'verbose_name_plural': 'messages',
                        'db_table': 'cases_inboxmessage',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(fields=['user', 'read_at'], name='cases_inbox_user_unread_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel', models.CharField(default='inapp', max_length=16, verbose_name='channel')),
                        ('address', civicgrid.privacy.fields.EncryptedTextField(blank=True, help_text='Phone or e-mail for people without an account (encrypted, never shown in full).', mask='phone', verbose_name='address')),
                        ('event', models.CharField(max_length=40, verbose_name='event')),
                        ('subject', models.CharField(max_length=200, verbose_name='subject')),
                        ('body', models.TextField(blank=True, verbose_name='body')),
                        ('state', models.CharField(choices=[('pending', 'pending'), ('sent', 'sent'), ('failed', 'failed for good')], default='pending', max_length=10, verbose_name='state')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='next attempt')),
                        ('last_error', models.TextField(blank=True, verbose_name='last error')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                        ('audience_department', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='org.department')),
                        ('audience_region', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='geo.region')),
                        ('case', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='cases.case')),
                        ('recipient', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'notification',
                        'verbose_name_plural': 'notifications',
                        'db_table': 'cases_notification',
                        'indexes': [models.Index(condition=models.Q(('recipient__isnull', False)), fields=['recipient'], name='cases_outbox_recipient_idx'), models.Index(condition=models.Q(('audience_department__isnull', False)), fields=['audience_department'], name='cases_outbox_department_idx'), models.Index(condition=models.Q(('audience_region__isnull', False)), fields=['audience_region'], name='cases_outbox_region_idx'), models.Index(condition=models.Q(('state', 'pending')), fields=['next_attempt_at'], name='cases_outbox_pending_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_back),
    ]
