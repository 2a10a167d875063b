"""Schedules declared in code, stored for django-celery-beat, editable in the admin."""

from __future__ import annotations

import io

from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery import app
from governance.background import tasks  # noqa: F401  (registers the tasks, as the worker's autodiscovery does)
from governance.background.schedules import SCHEDULES


def sync(*args: str) -> str:
    out = io.StringIO()
    call_command("sync_schedules", *args, stdout=out)
    return out.getvalue()


def test_every_declared_schedule_is_stored_and_names_a_registered_task(db):
    PeriodicTask.objects.all().delete()
    output = sync()
    assert output.count("created") == len(SCHEDULES)
    stored = {t.name: t for t in PeriodicTask.objects.all()}
    assert set(stored) == set(SCHEDULES)
    for name, entry in SCHEDULES.items():
        assert stored[name].task == entry["task"] and stored[name].enabled
        assert entry["task"] in app.tasks
    assert str(stored["send review reminders"].crontab).startswith("5 * * * *")
    assert stored["deliver webhooks (sweep)"].interval.every == 60


def test_syncing_again_keeps_what_the_managing_editor_changed(db):
    sync()
    hourly, _ = IntervalSchedule.objects.get_or_create(every=3600, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="deliver webhooks (sweep)").update(interval=hourly, enabled=False)
    count = PeriodicTask.objects.count()

    assert "kept" in sync()
    edited = PeriodicTask.objects.get(name="deliver webhooks (sweep)")
    assert (edited.interval.every, edited.enabled) == (3600, False)
    assert PeriodicTask.objects.count() == count

    sync("--reset")
    restored = PeriodicTask.objects.get(name="deliver webhooks (sweep)")
    assert (restored.interval.every, restored.enabled) == (60, True)


def test_beat_does_not_overwrite_the_database_from_settings(settings):
    # DatabaseScheduler writes CELERY_BEAT_SCHEDULE over the stored rows on every start, which
    # would undo the admin's edits: the schedules live only in the database.
    assert not any(entry["task"].startswith("governance.") for entry in settings.CELERY_BEAT_SCHEDULE.values())
