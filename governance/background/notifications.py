"""Notifications: an in-app row for each person told something, and its email copy.

The row is written in the transaction of the change that caused it (by the workflow:
`governance.workflow.outbox.notify`); the email goes after commit
(`send_pending_emails`, queued on commit and run by the periodic sweep). Each email is claimed
with a conditional UPDATE before sending (its lease is the claim token) and marked sent after only
if the claim is still held, with no send started when the lease is about to run out, so two
workers never send the same one and a failed send is retried on the next run. No transaction is open while the mail
server is talked to.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.mail import EmailMessage
from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.background import claims
from governance.models import Notification
from governance.workflow import policies, rows
from governance.workflow.exceptions import NotPermitted
from governance.workflow.outbox import (  # noqa: F401  (written by the workflow: re-exported for the jobs)
    NOTIFY_FIELDS,
    admin_change_url,
    editor_article_url,
    notify,
    notify_many,
    notify_rows,
    review_url,
)

logger = logging.getLogger(__name__)

EMAIL_LEASE = dt.timedelta(minutes=5)
MAX_EMAIL_ATTEMPTS = 10


managing_editors = policies.managing_editors  # who they are is the policy's; kept for the jobs


def _kick_emails() -> None:
    try:
        from governance.background.tasks import send_notification_emails  # tasks imports this module: a cycle

        send_notification_emails.apply_async(retry=False)
    except Exception:  # broker unreachable: the periodic sweep sends them later
        logger.warning("could not queue notification emails; the sweep will retry", exc_info=True)


def pending_emails(now: dt.datetime | None = None) -> QuerySet[Notification]:
    now = now or timezone.now()
    return (Notification.objects.filter(emailed_at__isnull=True, email_attempts__lt=MAX_EMAIL_ATTEMPTS)
            .exclude(recipient__email="")
            .filter(Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now)))


SEND_BATCH = 200  # claimed together, sent over one mail connection well within EMAIL_LEASE
EMAILS_PER_RUN = 5000


def send_pending_emails(*, limit: int = EMAILS_PER_RUN) -> int:
    """Send the email copy of up to `limit` notifications not yet emailed, oldest first, in
    batches (one claim, one mail connection, one marking UPDATE each); returns how many went."""
    pks = list(pending_emails().order_by("created_at", "pk").values_list("pk", flat=True)[:limit])
    sent = 0
    for start in range(0, len(pks), SEND_BATCH):
        sent += send_emails(pks[start:start + SEND_BATCH])
    return sent


EMAIL_COLUMNS = claims.Columns(done="emailed_at", lease="email_claimed_until", attempts="email_attempts",
                               error="email_error")


def send_emails(notification_ids: list[int]) -> int:
    """Claim these notifications' emails, send them over one connection, mark the ones that
    went (`claims.send_claimed`: at most once, a failed one released with its error for the next
    run). Returns how many went."""
    batch = list(Notification.objects.filter(rows.any_of("pk", notification_ids)).select_related("recipient")
                 .order_by("pk"))
    return len(claims.send_claimed(Notification, batch, key=lambda notification: notification.pk,
                                   columns=EMAIL_COLUMNS, lease=EMAIL_LEASE, send=_send_email))


def _send_email(notification: Notification, batch: claims.Batch) -> None:
    if not notification.recipient.email:  # their address was removed since: nothing to send
        raise claims.Unsendable("the recipient has no email address")
    batch.mail(EmailMessage(notification.subject, notification.body, to=[notification.recipient.email]))


def inbox(user: Any) -> QuerySet[Notification]:
    """A person's notifications that are not dismissed, newest first."""
    return Notification.objects.filter(recipient=user, dismissed_at__isnull=True).select_related("article")


def notification_dismiss(*, notification: Notification, actor: Any) -> bool:
    """The recipient dismisses a notification (only their own); True if it was open."""
    if not policies.may_dismiss_notification(actor, notification):
        raise NotPermitted("Only the recipient dismisses a notification.", rule="own_notification")
    return bool(Notification.objects.filter(pk=notification.pk, dismissed_at__isnull=True)
                .update(dismissed_at=timezone.now()))
