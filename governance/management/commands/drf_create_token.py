"""`manage.py drf_create_token USERNAME`: a staff user's editorial-API token, printed once.

The name of DRF's own command, kept for the contract (API.md) and for scripts that read its first
line (`Generated token <token> for user <username>`); the token is django-rest-knox's, stored as a
digest and expiring (`--expires-in-days`, default IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS). Created
through governance.workflow.api_access, which audits `editorial_token.create`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from governance.models import EditorialToken
from governance.workflow import api_access
from governance.workflow.exceptions import GovernanceError

MAX_DAYS = 3650


class Command(BaseCommand):
    help = "Create an editorial-API token for a user and print it once (only its digest is stored)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username", help="The staff user the token authenticates as.")
        parser.add_argument("--expires-in-days", type=int, default=None,
                            help="Days until the token expires (default: IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS).")
        parser.add_argument("-r", "--reset", action="store_true",
                            help="Revoke the user's other editorial tokens first (audited).")

    def handle(self, *args: Any, username: str, expires_in_days: int | None, reset: bool, **options: Any) -> None:
        days = settings.IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS if expires_in_days is None else expires_in_days
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--expires-in-days must be from 1 to {MAX_DAYS}.")
        user = get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No user has the username '{username}'.")
        try:
            if reset:
                for old in EditorialToken.objects.filter(user=user):
                    api_access.editorial_token_revoke(actor=None, token=old)
            row, token = api_access.editorial_token_create(actor=None, user=user, expires_in=dt.timedelta(days=days))
        except GovernanceError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Generated token {token} for user {username}")
        # On stderr, so that the first line stays all a script reads from stdout.
        self.stderr.write(f"It expires on {timezone.localtime(row.expiry):%d %b %Y %H:%M %Z} and is shown only once "
                          f"(only its digest is stored). Send it as:  Authorization: Token <token>")
