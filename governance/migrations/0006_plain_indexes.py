"""Only the indexes a query uses on the tables the background jobs write by the hundred thousand
(see AuditEvent.Meta): the audit events keep `seq`, `article_id` and a plain `action` index and
lose the unique index on `hash` (implied by `seq`'s: each hash covers its seq), the indexes of
`article_slug` and `actor` (nothing looks events up by them) and the varchar_pattern_ops twins
that db_index=True / unique=True add on PostgreSQL; deliveries get a plain `status` index; the
notification recipient needs none of its own (notification_inbox leads with it). The affected
indexes are rebuilt or dropped once, the tables locked meanwhile (see the README's performance
section for the time on 1.4 million audit events)."""

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
            name='actor',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL),
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
            model_name='webhookdelivery',
            index=models.Index(fields=['status'], name='webhookdelivery_status'),
        ),
    ]
