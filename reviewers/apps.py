from django.apps import AppConfig


class ReviewersConfig(AppConfig):
    name = "reviewers"
    verbose_name = "Advisory board"

    def ready(self) -> None:
        from . import admin_board  # noqa: F401  (board profiles, credentials, conflict-of-interest declarations)
