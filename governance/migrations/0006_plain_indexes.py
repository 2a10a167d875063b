"""Plain indexes in place of db_index=True / unique=True on the columns the background jobs
write by the hundred thousand: on PostgreSQL those options add a varchar_pattern_ops twin of
each index (for LIKE 'x%', which nothing here runs), and a foreign key covered by a composite
index led by it needs no index of its own. Same lookups served, fewer indexes to keep on every
insert and state change. On PostgreSQL the affected indexes are rebuilt once (the table is locked
meanwhile: 1,073,333 audit events took the time the README's performance section gives)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0005_editorial_policy_report_thresholds'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(max_length=60),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='article_slug',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name='notification',
            name='recipient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='webhookdelivery',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('delivered', 'Delivered'), ('failed', 'Failed (gave up)'), ('disabled', 'Endpoint disabled')], default='pending', max_length=12),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['action'], name='auditevent_action'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['article_slug'], name='auditevent_article_slug'),
        ),
        migrations.AddIndex(
            model_name='webhookdelivery',
            index=models.Index(fields=['status'], name='webhookdelivery_status'),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.UniqueConstraint(fields=('hash',), name='auditevent_hash_unique'),
        ),
    ]
