"""Credentials verified by someone else (CredentialChange, BoardMember.credentials_verified_at/by)
and declarations ended with a reason (ended_at, ended_by, end_reason). Existing members start
unverified: their values were self-certified until now, so they are eligible for nothing until
someone else verifies them (the admin's "Verify the recorded credentials" action; seed_demo does
it for the demo board)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reviewers', '0005_plain_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CredentialChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('proposed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('note', models.TextField(help_text='What changed and where it can be checked (the register, a certificate...).', verbose_name="proposer's note")),
                ('printed_name', models.CharField(blank=True, help_text='New name on signatures, if it changes.', max_length=200)),
                ('credentials', models.CharField(blank=True, help_text='New post-nominals, if they change.', max_length=120)),
                ('licence_number', models.CharField(blank=True, max_length=64)),
                ('licence_jurisdiction', models.CharField(blank=True, max_length=120)),
                ('licence_expires_on', models.DateField(blank=True, help_text='New licence expiry date, if it changes.', null=True)),
                ('status', models.CharField(choices=[('pending', 'Pending verification'), ('verified', 'Verified'), ('rejected', 'Rejected')], default='pending', max_length=10)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decision_note', models.TextField(blank=True, verbose_name="verifier's note")),
                ('applied', models.JSONField(blank=True, default=dict, verbose_name='values applied ([old, new] per field)')),
            ],
            options={
                'verbose_name': 'credential change',
                'ordering': ['-proposed_at', '-pk'],
                'permissions': [('verify_credentials', "Can verify board members' credentials")],
            },
        ),
        migrations.AddField(
            model_name='boardmember',
            name='credentials_verified_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='boardmember',
            name='credentials_verified_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='conflictofinterest',
            name='end_reason',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='conflictofinterest',
            name='ended_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='conflictofinterest',
            name='ended_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='boardmember',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('credentials_verified_at__isnull', True), ('credentials_verified_by__isnull', True)), models.Q(('credentials_verified_at__isnull', False), ('credentials_verified_by__isnull', False)), _connector='OR'), name='credentials_verified_by_someone_at_a_time'),
        ),
        migrations.AddField(
            model_name='credentialchange',
            name='decided_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='credentialchange',
            name='member',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='credential_changes', to='reviewers.boardmember'),
        ),
        migrations.AddField(
            model_name='credentialchange',
            name='proposed_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='credentialchange',
            name='specialties_added',
            field=models.ManyToManyField(blank=True, related_name='+', to='reviewers.specialty'),
        ),
        migrations.AddField(
            model_name='credentialchange',
            name='specialties_removed',
            field=models.ManyToManyField(blank=True, related_name='+', to='reviewers.specialty'),
        ),
        migrations.AddIndex(
            model_name='credentialchange',
            index=models.Index(fields=['member', 'status'], name='credential_change_member'),
        ),
        migrations.AddConstraint(
            model_name='credentialchange',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('decided_at__isnull', True), ('decided_by__isnull', True), ('status', 'pending')), models.Q(models.Q(('status', 'pending'), _negated=True), ('decided_at__isnull', False), ('decided_by__isnull', False)), _connector='OR'), name='credential_change_decided_by_someone_at_a_time'),
        ),
    ]
