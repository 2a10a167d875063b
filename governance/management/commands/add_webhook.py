"""Register a downstream site's webhook endpoint and print its signing secret once."""

import base64
import secrets

from django.core.management.base import BaseCommand, CommandError

from governance.delivery import target_refusal
from governance.models import WebhookEndpoint

EVENTS = WebhookEndpoint.EventType.values


class Command(BaseCommand):
    help = "Add a webhook endpoint; prints its whsec_… secret once (store it in the receiving site)."

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument("--events", nargs="*", default=[], metavar="EVENT",
                            help=f"Event types to send (default: all): {', '.join(EVENTS)}")
        parser.add_argument("--name", default="", help="A label for the admin (default: the URL's host).")

    def handle(self, *args, url: str, events: list[str], name: str, **options):
        unknown = [e for e in events if e not in EVENTS]
        if unknown:
            raise CommandError(f"--events: unknown event type(s) {', '.join(unknown)}; use {', '.join(EVENTS)}.")
        try:
            refusal = target_refusal(url)
        except ConnectionError as exc:
            raise CommandError(f"url: {exc}") from exc
        if refusal:
            raise CommandError(f"url: {refusal}")
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        endpoint = WebhookEndpoint(name=name or url.split("/")[2], url=url, secret=secret, event_types=events)
        endpoint.full_clean()
        endpoint.save()
        self.stdout.write(f"Webhook endpoint #{endpoint.pk} added for {url} "
                          f"({', '.join(events) if events else 'every event'}).")
        self.stdout.write("Signing secret (shown once; verify deliveries with standardwebhooks):")
        self.stdout.write(secret)
