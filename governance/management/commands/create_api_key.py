"""`manage.py create_api_key NAME`: a downstream site's key for the public API, printed once.
Made by governance.workflow.api_access.api_key_create, as in the admin (audited `api_key.create`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from governance.workflow import api_access
from governance.workflow.exceptions import GovernanceError


class Command(BaseCommand):
    help = "Create an API key for a downstream site and print it once (only its hash is stored)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="The downstream site, e.g. 'heart-charity.org'.")
        parser.add_argument("--expires-in-days", type=int, default=None,
                            help="Make the key expire after this many days (default: never).")

    def handle(self, *args: Any, name: str, expires_in_days: int | None, **options: Any) -> None:
        if expires_in_days is not None and not 1 <= expires_in_days <= 36500:
            raise CommandError("--expires-in-days must be from 1 to 36500.")
        expiry = timezone.now() + dt.timedelta(days=expires_in_days) if expires_in_days else None
        try:
            api_key, key = api_access.api_key_create(actor=None, name=name, expiry_date=expiry)
        except GovernanceError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"API key for {api_key.name} (prefix {api_key.prefix}); it is shown only once:")
        self.stdout.write(key)
        self.stdout.write(f"Use it as:  Authorization: Api-Key {key}")
