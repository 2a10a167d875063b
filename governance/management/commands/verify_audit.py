"""`manage.py verify_audit`: walk the hash-chained audit log and prove it intact, or name the
first event whose link or content does not match (exit status 1)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from governance.workflow import audit


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits non-zero naming the first broken event."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--article", type=int, default=None,
                            help="Check only the events of this article id (each against its link in the chain).")

    def handle(self, *args: Any, **options: Any) -> None:
        article_id = options["article"]
        result = audit.verify() if article_id is None else audit.verify_article(article_id)
        if not result.ok:
            # The line alone on stderr (no "CommandError:" prefix), so scripts can grep it; status 1.
            self.stderr.write(str(result))
            raise SystemExit(1)
        self.stdout.write(str(result))
