"""Plain indexes in place of db_index=True / unique=True on the columns the background jobs
write by the hundred thousand: on PostgreSQL those options add a varchar_pattern_ops twin of
each index (for LIKE 'x%', which nothing here runs), and a foreign key covered by a composite
index led by it needs no index of its own. Same lookups served, fewer indexes to keep on every
insert and state change. On PostgreSQL the affected indexes are rebuilt once, the table locked
meanwhile (see the README's performance section for the time on the 100,000-article bench)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0008_plain_state_index'),
        ('reviewers', '0004_review_signature_immutable_trigger'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='reviewassignment',
            name='reviewer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='assignments', to='reviewers.boardmember'),
        ),
        migrations.AlterField(
            model_name='reviewassignment',
            name='status',
            field=models.CharField(choices=[('open', 'Open'), ('completed', 'Completed'), ('cancelled', 'Cancelled')], default='open', max_length=12),
        ),
        migrations.AddIndex(
            model_name='reviewassignment',
            index=models.Index(fields=['status'], name='assignment_status'),
        ),
    ]
