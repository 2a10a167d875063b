"""Notifications: an in-app row for each person told something, and its email copy.

The row is written in the transaction of the change that caused it; the email goes after commit
(`send_pending_emails`, queued on commit and run by the periodic sweep). Each email is claimed
with a conditional UPDATE before sending (its lease is the claim token) and marked sent after only
if the claim is still held, with no send started when the lease is about to run out, so two
workers never send the same one and a failed send is retried on the next run. No transaction is open while the mail
server is talked to.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from governance.background import bulk, claims
from governance.models import Notification
from governance.workflow import policies
from governance.workflow.exceptions import NotPermitted

logger = logging.getLogger(__name__)

EMAIL_LEASE = dt.timedelta(minutes=5)
MAX_EMAIL_ATTEMPTS = 10


def managing_editors() -> QuerySet:
    """Everyone who acts as managing editor (the group, or a superuser), active only."""
    User = get_user_model()
    return (User.objects.filter(Q(groups__name=policies.MANAGING_EDITORS) | Q(is_superuser=True), is_active=True)
            .distinct().order_by("pk"))


# --- links: every notification opens the exact item it is about, for its recipient --------------

@functools.cache
def _review_path() -> tuple[str, str]:
    # reverse() costs ~90 µs: the background jobs write a link per row (100,000 re-review
    # requests in one sweep), so the path is reversed once and the id put in its place.
    head, _, tail = reverse("admin:reviewers_reviewassignment_change", args=[987654321]).partition("987654321")
    return head, tail


def review_url(assignment_id: int) -> str:
    """A board member's review of one assignment (the admin's review page, where they sign)."""
    head, tail = _review_path()
    return f"{settings.SITE_URL}{head}{assignment_id}{tail}"


def admin_change_url(obj: Any) -> str:
    """An object's own page in the admin (a credential change to verify, a board profile)."""
    meta = obj._meta
    return settings.SITE_URL + reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def editor_article_url(slug: str) -> str:
    """One article in the editor UI (its state, reviewers, next steps): the managing editor's link."""
    return settings.SITE_URL + reverse("articles:detail", kwargs={"slug": slug})


def notify(*, recipients: Iterable[Any], kind: str, subject: str, body: str, url: str = "", article: Any = None,
           assignment: Any = None) -> list[Notification]:
    """Write one notification per recipient (inside the caller's transaction) and send the
    emails after commit. `url` is the exact item it is about (see `review_url`,
    `editor_article_url`); the body should end with it, for the email."""
    return notify_many([
        Notification(recipient=user, kind=kind, subject=subject[:300], body=body, url=url, article=article,
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


NOTIFY_FIELDS = ("recipient_id", "kind", "subject", "body", "url", "article_id", "assignment_id")


def notify_rows(rows: Iterable[tuple[int, str, str, str, str, int | None, int | None]]) -> int:
    """`notify_many` for the background jobs' volumes: rows of (recipient_id, kind, subject, body,
    url, article_id, assignment_id) written in one statement (COPY on PostgreSQL) with no model
    instance built; the same rows, and the same single email task queued after commit (the
    emails then go exactly as for `notify`: claimed in batches by `send_pending_emails`).
    Returns the number of notifications written."""
    now = timezone.now()
    written = bulk.insert_rows(
        Notification, (*NOTIFY_FIELDS, "created_at", "email_attempts", "email_error"),
        ((recipient_id, str(kind), subject[:300], body, url, article_id, assignment_id, now, 0, "")
         for recipient_id, kind, subject, body, url, article_id, assignment_id in rows))
    if written:
        transaction.on_commit(_kick_emails)
    return written


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
    batch = list(Notification.objects.filter(bulk.any_of("pk", notification_ids)).select_related("recipient")
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
    if getattr(actor, "pk", None) != notification.recipient_id:
        raise NotPermitted("Only the recipient dismisses a notification.", rule="own_notification")
    return bool(Notification.objects.filter(pk=notification.pk, dismissed_at__isnull=True)
                .update(dismissed_at=timezone.now()))
