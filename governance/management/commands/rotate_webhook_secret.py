"""Give a webhook endpoint a new signing secret and print it once."""

from django.core.management.base import BaseCommand, CommandError

from governance.models import WebhookEndpoint
from governance.workflow import configuration


class Command(BaseCommand):
    help = ("Rotate a webhook endpoint's signing secret; prints the new whsec_… secret once (deliveries are signed "
            "with it from now on). Audited webhook_endpoint.rotate_secret, without the secret.")

    def add_arguments(self, parser):
        parser.add_argument("endpoint_id", type=int, help="The endpoint's number (#N in the admin and add_webhook).")

    def handle(self, *args, endpoint_id: int, **options):
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:
            raise CommandError(f"endpoint_id: no webhook endpoint #{endpoint_id}.")
        secret = configuration.webhook_endpoint_rotate_secret(actor=None, endpoint=endpoint)
        self.stdout.write(f"New signing secret for #{endpoint.pk} {endpoint.name} ({endpoint.url}); "
                          "shown once, the old one no longer signs:")
        self.stdout.write(secret)
