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

import contextlib
import datetime as dt
import logging
from typing import Any

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from governance.background import bulk
from governance.models import Notification
from governance.workflow import policies
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
        from governance.background.tasks import send_notification_emails

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


def send_email(notification_id: int) -> int:
    """Claim, send and mark one notification's email (1 if this call sent it, else 0)."""
    return send_emails([notification_id])


def send_emails(notification_ids: list[int]) -> int:
    """Claim these notifications' emails, send them over one connection, mark the ones that
    went; a failed one is released with its error for the next run. Returns how many went.

    The lease is the claim token: only rows still holding it are marked or released, and no send
    starts once less than `reminders.send_margin()` of it is left (the rest are released untried,
    their attempt not counted), so another worker never reclaims and resends one."""
    from governance.background.reminders import send_margin

    now = timezone.now()
    until = now + EMAIL_LEASE
    last_start = until - send_margin()
    mine = bulk.claim(Notification, notification_ids, done="emailed_at", lease="email_claimed_until",
                      attempts="email_attempts", now=now, until=until)
    if not mine:
        return 0  # sent already, or another worker holds them
    sent: list[int] = []
    failed: dict[str, list[int]] = {}
    untried: list[int] = []
    connection = get_connection()
    try:
        connection.open()
        for notification in (Notification.objects.filter(bulk.any_of("pk", mine)).select_related("recipient")
                             .order_by("pk")):
            if untried or timezone.now() >= last_start:  # the lease is about to run out: stop here
                untried.append(notification.pk)
                continue
            if not notification.recipient.email:  # their address was removed since: nothing to send
                failed.setdefault("the recipient has no email address", []).append(notification.pk)
                continue
            message = EmailMessage(notification.subject, notification.body, to=[notification.recipient.email],
                                   connection=connection)
            try:
                connection.send_messages([message])
            except Exception as exc:  # any transport error: left unsent for the next run
                logger.warning("email for notification %s failed: %s", notification.pk, exc)
                failed.setdefault(str(exc)[:500], []).append(notification.pk)
                continue
            sent.append(notification.pk)
    except Exception as exc:  # the connection itself failed: every claimed email waits for the next run
        logger.warning("mail connection failed: %s", exc)
        failed.setdefault(str(exc)[:500], []).extend(
            set(mine) - set(sent) - set(untried) - {pk for pks in failed.values() for pk in pks})
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    with transaction.atomic():
        mine_still = Notification.objects.filter(email_claimed_until=until, emailed_at__isnull=True)
        for error, pks in failed.items():
            mine_still.filter(bulk.any_of("pk", pks)).update(email_claimed_until=None, email_error=error)
        if untried:
            mine_still.filter(bulk.any_of("pk", untried)).update(
                email_claimed_until=None, email_attempts=F("email_attempts") - 1)
        if sent:
            mine_still.filter(bulk.any_of("pk", sent)).update(
                emailed_at=timezone.now(), email_claimed_until=None, email_error="")
    return len(sent)


def inbox(user: Any) -> QuerySet[Notification]:
    """A person's notifications that are not dismissed, newest first."""
    return Notification.objects.filter(recipient=user, dismissed_at__isnull=True).select_related("article")


def notification_dismiss(*, notification: Notification, actor: Any) -> bool:
    """The recipient dismisses a notification (only their own); True if it was open."""
    if not policies.may_dismiss_notification(actor, notification):
        from governance.workflow.exceptions import NotPermitted

        raise NotPermitted("Only the recipient dismisses a notification.", rule="own_notification")
    return bool(Notification.objects.filter(pk=notification.pk, dismissed_at__isnull=True)
                .update(dismissed_at=timezone.now()))
