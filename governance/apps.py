from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_schedules(sender, **kwargs) -> None:
    """After `migrate`, store the periodic schedules declared in code (existing rows are kept)."""
    # Not at the top: this module is imported while the app registry loads, before the models
    # schedules imports (django_celery_beat's) can be.
    from governance.background.schedules import sync

    sync()


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        post_migrate.connect(_sync_schedules, sender=self, dispatch_uid="governance.sync_schedules")
        # The admin's parts register their models on import.
        from governance.admin import (  # noqa: F401
            access,  # signing lockouts, API keys, editorial tokens
            background,  # notifications, reminders, overdue reviews, retraction imports
            webhooks,  # webhook endpoints: registration, the secret shown once
        )
