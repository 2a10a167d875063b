"""Deployment checks of our own, run by `manage.py check --deploy` beside Django's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def development_secret_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The development SECRET_KEY is in this repository: Django's own check (security.W009) does not
    know it and passes it, long and varied as it is."""
    from config.settings import DEVELOPMENT_SECRET_KEY

    if settings.SECRET_KEY != DEVELOPMENT_SECRET_KEY:
        return []
    return [checks.Error(
        "SECRET_KEY is the development key published with Imprimatur's source: anyone can forge sessions "
        "and signed links with it.",
        hint="Set SECRET_KEY to a long random value of your own (and IMPRIMATUR_PRODUCTION=1, which then refuses "
             "to start without one).",
        id="imprimatur.E001",
    )]
