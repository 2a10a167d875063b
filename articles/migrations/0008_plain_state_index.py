"""Plain indexes in place of db_index=True / unique=True on the columns the background jobs
write by the hundred thousand: on PostgreSQL those options add a varchar_pattern_ops twin of
each index (for LIKE 'x%', which nothing here runs), and a foreign key covered by a composite
index led by it needs no index of its own. Same lookups served, fewer indexes to keep on every
insert and state change. On PostgreSQL the affected indexes are rebuilt once, the table locked
meanwhile (see the README's performance section for the time on the 100,000-article bench)."""

import django_fsm
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0007_citation_cited'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='article',
            name='state',
            field=django_fsm.FSMField(choices=[('draft', 'Draft'), ('submitted', 'Submitted'), ('in_review', 'Under review'), ('approved', 'Approved'), ('scheduled', 'Scheduled'), ('published', 'Published'), ('review_due', 'Review due'), ('withdrawn', 'Withdrawn'), ('archived', 'Archived')], default='draft', max_length=50, protected=True),
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(fields=['state'], name='article_state'),
        ),
    ]
