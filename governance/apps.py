from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from . import schedules  # noqa: F401  (declares the periodic tasks in settings)
