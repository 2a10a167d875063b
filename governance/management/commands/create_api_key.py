"""`manage.py create_api_key NAME`: a downstream site's key for the public API, printed once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rest_framework_api_key.models import APIKey


class Command(BaseCommand):
    help = "Create an API key for a downstream site and print it once (only its hash is stored)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="The downstream site, e.g. 'heart-charity.org'.")
        parser.add_argument("--expires-in-days", type=int, default=None,
                            help="Make the key expire after this many days (default: never).")

    def handle(self, *args: Any, name: str, expires_in_days: int | None, **options: Any) -> None:
        name = name.strip()
        if not name:
            raise CommandError("Give the downstream site a name.")
        if len(name) > 50:
            raise CommandError("The name is longer than 50 characters.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        expiry = timezone.now() + dt.timedelta(days=expires_in_days) if expires_in_days else None
        api_key, key = APIKey.objects.create_key(name=name, expiry_date=expiry)
        self.stdout.write(f"API key for {api_key.name} (prefix {api_key.prefix}); it is shown only once:")
        self.stdout.write(key)
        self.stdout.write(f"Use it as:  Authorization: Api-Key {key}")
