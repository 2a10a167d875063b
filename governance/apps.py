from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_schedules(sender, **kwargs) -> None:
    """After `migrate`, store the periodic schedules declared in code (existing rows are kept)."""
    from .schedules import sync

    sync()


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        post_migrate.connect(_sync_schedules, sender=self, dispatch_uid="governance.sync_schedules")
        from . import (
            admin_access,  # noqa: F401  (signing lockouts, API keys, editorial tokens)
            admin_background,  # noqa: F401  (notifications, reminders, overdue reviews, webhooks)
            admin_webhooks,  # noqa: F401  (webhook endpoints: registration, the secret shown once)
        )
