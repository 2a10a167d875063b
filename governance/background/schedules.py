"""Periodic schedules, declared in code and stored by django-celery-beat's DatabaseScheduler.

`manage.py sync_schedules` (run after every `migrate` too) writes a PeriodicTask row for each
entry below that has none yet; the managing editor then changes or disables it in the admin
("Periodic tasks") and the change sticks: syncing never overwrites an edited row (use
`sync_schedules --reset` to restore the declared schedule). They are deliberately not put in
CELERY_BEAT_SCHEDULE, which beat would write back over the admin's edits on every start.
"""

from __future__ import annotations

from celery.schedules import crontab, schedule
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

SCHEDULES: dict[str, dict] = {
    "publish scheduled articles": {"task": "governance.publish_scheduled_articles", "schedule": 60.0,
                                   "description": "Publish scheduled articles whose time has come."},
    "deliver webhooks (sweep)": {"task": "governance.deliver_webhooks", "schedule": 60.0,
                                 "description": "Queue every pending webhook delivery that is due (retries included)."},
    "send notification emails (sweep)": {"task": "governance.send_notification_emails", "schedule": 300.0,
                                         "description": "Retry notification emails that failed or were never queued."},
    "send review reminders": {"task": "governance.send_review_reminders", "schedule": crontab(minute=5),
                              "description": "Hourly: reviewer reminders before, on and after the due date; "
                                             "escalation to the managing editor."},
    "flag stale articles": {"task": "governance.flag_stale_articles", "schedule": crontab(minute=15, hour=2),
                            "description": "Daily: published articles past their review date move to review_due."},
    "check reference integrity": {"task": "governance.check_reference_integrity",
                                  "schedule": crontab(minute=45, hour=2),
                                  "description": "Daily: fetch the Retraction Watch CSV (if configured) and flag "
                                                 "articles citing retracted references."},
}


def sync(*, reset: bool = False) -> list[tuple[str, str]]:
    """Write the PeriodicTask rows for SCHEDULES; returns (name, what happened) pairs.
    Existing rows are left as the admin left them unless `reset`."""
    report = []
    for name, entry in SCHEDULES.items():
        existing = PeriodicTask.objects.filter(name=name).first()
        if existing is not None and not reset:
            report.append((name, "kept"))
            continue
        fields: dict = {"task": entry["task"], "description": entry["description"], "enabled": True,
                        "interval": None, "crontab": None}
        when = entry["schedule"]
        if isinstance(when, crontab):
            fields["crontab"] = CrontabSchedule.from_schedule(when)
            fields["crontab"].save()
        else:
            every = schedule(when) if not isinstance(when, schedule) else when
            fields["interval"] = IntervalSchedule.from_schedule(every)
            fields["interval"].save()
        _, created = PeriodicTask.objects.update_or_create(name=name, defaults=fields)
        report.append((name, "created" if created else "reset"))
    return report
