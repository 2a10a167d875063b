"""Store the periodic schedules declared in governance/background/schedules.py for django-celery-beat."""

from django.core.management.base import BaseCommand

from governance.background.schedules import sync


class Command(BaseCommand):
    help = ("Write a django-celery-beat PeriodicTask for each schedule declared in code that has none yet "
            "(schedules edited in the admin are kept; --reset restores the declared ones).")

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Overwrite edited schedules with the declared ones.")

    def handle(self, *args, reset: bool = False, **options):
        for name, outcome in sync(reset=reset):
            self.stdout.write(f"{outcome:8} {name}")
