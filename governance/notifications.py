"""Notifications: an in-app row for each person told something, and its email copy.

The row is written in the transaction of the change that caused it; the email goes after commit
(`send_pending_emails`, queued on commit and run by the periodic sweep). Each email is claimed
with a conditional UPDATE before sending and marked sent after, so two workers never send the
same one and a failed send is retried on the next run. No transaction is open while the mail
server is talked to.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from . import bulk, policies
from .models import Notification

logger = logging.getLogger(__name__)

EMAIL_LEASE = dt.timedelta(minutes=5)
MAX_EMAIL_ATTEMPTS = 10


def managing_editors() -> QuerySet:
    """Everyone who acts as managing editor (the group, or a superuser), active only."""
    User = get_user_model()
    return (User.objects.filter(Q(groups__name=policies.MANAGING_EDITORS) | Q(is_superuser=True), is_active=True)
            .distinct().order_by("pk"))


def admin_url(path: str = "") -> str:
    return f"{settings.SITE_URL}/admin/{path}"


def notify(*, recipients: Iterable[Any], kind: str, subject: str, body: str, article: Any = None,
           assignment: Any = None) -> list[Notification]:
    """Write one notification per recipient (inside the caller's transaction) and send the
    emails after commit."""
    return notify_many([
        Notification(recipient=user, kind=kind, subject=subject[:300], body=body, article=article,
                     assignment=assignment)
        for user in recipients
    ])


def notify_many(notifications: list[Notification]) -> list[Notification]:
    """Bulk form of `notify`: one INSERT, one email task queued after commit."""
    if not notifications:
        return []
    now = timezone.now()
    for notification in notifications:
        notification.created_at = notification.created_at or now
    created = Notification.objects.bulk_create(notifications, batch_size=1000)
    transaction.on_commit(_kick_emails)
    return created


NOTIFY_FIELDS = ("recipient_id", "kind", "subject", "body", "article_id", "assignment_id")


def notify_rows(rows: Iterable[tuple[int, str, str, str, int | None, int | None]]) -> int:
    """`notify_many` for the background jobs' volumes: rows of (recipient_id, kind, subject, body,
    article_id, assignment_id) written in one statement (COPY on PostgreSQL) with no model
    instance built; the same rows, and the same single email task queued after commit (the
    emails then go exactly as for `notify`: claimed one by one by `send_pending_emails`).
    Returns the number of notifications written."""
    now = timezone.now()
    written = bulk.insert_rows(
        Notification, (*NOTIFY_FIELDS, "created_at", "email_attempts", "email_error"),
        ((recipient_id, str(kind), subject[:300], body, article_id, assignment_id, now, 0, "")
         for recipient_id, kind, subject, body, article_id, assignment_id in rows))
    if written:
        transaction.on_commit(_kick_emails)
    return written


def _kick_emails() -> None:
    try:
        from .tasks import send_notification_emails

        send_notification_emails.apply_async(retry=False)
    except Exception:  # broker unreachable: the periodic sweep sends them later
        logger.warning("could not queue notification emails; the sweep will retry", exc_info=True)


def pending_emails(now: dt.datetime | None = None) -> QuerySet[Notification]:
    now = now or timezone.now()
    return (Notification.objects.filter(emailed_at__isnull=True, email_attempts__lt=MAX_EMAIL_ATTEMPTS)
            .exclude(recipient__email="")
            .filter(Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now)))


def send_pending_emails(*, limit: int = 500) -> int:
    """Send the email copy of every notification not yet emailed; returns how many went."""
    sent = 0
    for pk in list(pending_emails().order_by("created_at").values_list("pk", flat=True)[:limit]):
        sent += send_email(pk)
    return sent


def send_email(notification_id: int) -> int:
    """Claim, send and mark one notification's email (1 if this call sent it, else 0)."""
    now = timezone.now()
    claimed = pending_emails(now).filter(pk=notification_id).update(
        email_claimed_until=now + EMAIL_LEASE, email_attempts=F("email_attempts") + 1)
    if not claimed:
        return 0  # sent already, or another worker holds it
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        EmailMessage(notification.subject, notification.body, to=[notification.recipient.email]).send()
    except Exception as exc:  # any transport error: leave it unsent for the next run
        logger.warning("email for notification %s failed: %s", notification_id, exc)
        Notification.objects.filter(pk=notification_id).update(email_claimed_until=None, email_error=str(exc)[:500])
        return 0
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now(), email_claimed_until=None,
                                                           email_error="")
    return 1


def inbox(user: Any) -> QuerySet[Notification]:
    """A person's notifications that are not dismissed, newest first."""
    return Notification.objects.filter(recipient=user, dismissed_at__isnull=True).select_related("article")


def notification_dismiss(*, notification: Notification, actor: Any) -> bool:
    """The recipient dismisses a notification (only their own); True if it was open."""
    if getattr(actor, "pk", None) != notification.recipient_id:
        from .exceptions import NotPermitted

        raise NotPermitted("Only the recipient dismisses a notification.", rule="own_notification")
    return bool(Notification.objects.filter(pk=notification.pk, dismissed_at__isnull=True)
                .update(dismissed_at=timezone.now()))
