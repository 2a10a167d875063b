"""The Celery application. Periodic schedules are declared in settings.CELERY_BEAT_SCHEDULE and
stored by django-celery-beat, so the managing editor can change them in the admin."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("imprimatur")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The tasks live with the background jobs, not at the top of an app.
app.autodiscover_tasks(["governance.background"])
