"""A case counts its closings; ratings name the closing and whose they are (the reporter's own, a
staff follow-up, a call attempt), and one of each per closing is a unique constraint (attempts are
not limited).

Existing rows: a case has been closed ``reopen_count`` times plus once if it is closed now; a rating
by nobody (the public rating) or by the case's reporter account is the reporter's own, an invalid one
an attempt, any other a follow-up; ratings of one kind take the closings 1, 2, … in the order they
were made (a rating repeated before this constraint existed moves to a closing of its own).
"""

from django.conf import settings
from django.db import migrations, models


FORWARD = [
    "UPDATE cases_case SET closing = reopen_count + CASE WHEN closed_at IS NULL THEN 0 ELSE 1 END "
    "WHERE closed_at IS NOT NULL OR reopen_count > 0",
    "UPDATE cases_rating SET source = CASE "
    "WHEN by_id IS NULL OR by_id = (SELECT c.reporter_id FROM cases_case c WHERE c.id = cases_rating.case_id) "
    "THEN 'resident' WHEN NOT valid THEN 'attempt' ELSE 'follow_up' END",
    "UPDATE cases_rating SET closing = (SELECT COUNT(*) FROM cases_rating r WHERE r.case_id = cases_rating.case_id "
    "AND r.source = cases_rating.source AND (r.at < cases_rating.at OR (r.at = cases_rating.at "
    "AND r.id <= cases_rating.id)))",
]


def forward(apps, schema_editor):
    for sql in FORWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0008_open_place_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='closing',
            field=models.PositiveSmallIntegerField(db_default=0, default=0, verbose_name='closing'),
        ),
        migrations.AddField(
            model_name='rating',
            name='closing',
            field=models.PositiveSmallIntegerField(db_default=1, default=1, verbose_name='closing'),
        ),
        migrations.AddField(
            model_name='rating',
            name='source',
            field=models.CharField(choices=[('resident', "the reporter's own rating"), ('follow_up', 'staff follow-up'), ('attempt', 'follow-up call attempt')], db_default='follow_up', default='follow_up', max_length=10, verbose_name='source'),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='rating',
            constraint=models.UniqueConstraint(condition=models.Q(('source', 'attempt'), _negated=True), fields=('case', 'closing', 'source'), name='cases_one_rating_per_closing'),
        ),
    ]
