"""Periodic schedules, declared in code (seconds between runs, or a crontab). Beat runs with
django-celery-beat's DatabaseScheduler, which stores these on start-up; the managing editor can
then change them in the admin ("Periodic tasks")."""

from __future__ import annotations

from celery.schedules import crontab
from django.conf import settings

SCHEDULES: dict[str, dict] = {
    "publish scheduled articles": {"task": "governance.publish_scheduled_articles", "schedule": 60.0},
    "deliver webhooks (sweep)": {"task": "governance.deliver_webhooks", "schedule": 60.0},
}

settings.CELERY_BEAT_SCHEDULE.update(SCHEDULES)
__all__ = ["SCHEDULES", "crontab"]
