"""Register a downstream site's webhook endpoint and print its signing secret once."""

from django.core.management.base import BaseCommand, CommandError

from governance.models import WebhookEndpoint
from governance.workflow import configuration
from governance.workflow.exceptions import ContentInvalid

EVENTS = WebhookEndpoint.EventType.values


class Command(BaseCommand):
    help = ("Add a webhook endpoint (the URL gets the check every delivery makes); prints its whsec_… secret "
            "once (store it in the receiving site). Audited webhook_endpoint.create.")

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument("--events", nargs="*", default=[], metavar="EVENT",
                            help=f"Event types to send (default: all): {', '.join(EVENTS)}")
        parser.add_argument("--name", default="", help="A label for the admin (default: the URL's host).")

    def handle(self, *args, url: str, events: list[str], name: str, **options):
        unknown = [e for e in events if e not in EVENTS]
        if unknown:
            raise CommandError(f"--events: unknown event type(s) {', '.join(unknown)}; use {', '.join(EVENTS)}.")
        fields = {"name": name or (url.split("/")[2] if url.count("/") >= 2 else url)[:120], "url": url,
                  "event_types": events}
        try:
            # actor None: the system — whoever runs manage.py on the server.
            endpoint, secret = configuration.webhook_endpoint_create(actor=None, fields=fields)
        except ContentInvalid as exc:
            field, messages = next(iter(exc.errors.items()))
            raise CommandError(f"{'--' if field != 'url' else ''}{field}: {' '.join(messages)}") from exc
        self.stdout.write(f"Webhook endpoint #{endpoint.pk} added for {url} "
                          f"({', '.join(events) if events else 'every event'}).")
        self.stdout.write("Signing secret (shown once; verify deliveries with standardwebhooks):")
        self.stdout.write(secret)
