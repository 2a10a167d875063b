"""What a change writes for the world outside, in the change's own transaction: the webhook outbox
(one WebhookDelivery row per interested endpoint) and the notifications (one row per person told,
with a link to the exact item). Sending them is the background's (`governance.background.delivery`,
`governance.background.notifications`), after commit.

Why here and not in the background layer: these rows are part of the change, written and rolled
back with it, like its audit events, so they sit with the workflow that writes them; the
workflow never imports the background. What must happen after commit — waking a worker to
deliver or to send the emails — is the background's: it registers that with `after_commit` when
the app is ready (`GovernanceConfig.ready`). Without a registered waker nothing is lost: the
periodic sweeps send what is pending.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance.models import Notification, WebhookDelivery, WebhookEndpoint
from governance.workflow.rows import JSONText, insert_rows
from governance.workflow.snapshots import article_api_url

WEBHOOKS = "webhooks"
EMAILS = "emails"
_wakers: dict[str, list[Callable[[], None]]] = {WEBHOOKS: [], EMAILS: []}


def after_commit(kind: str, waker: Callable[[], None]) -> None:
    """Call `waker` after the commit of every transaction that wrote rows of `kind` (WEBHOOKS or
    EMAILS): the background layer's way to be told, without the workflow importing it."""
    if waker not in _wakers[kind]:
        _wakers[kind].append(waker)


def _wake(kind: str) -> None:
    for waker in _wakers[kind]:
        transaction.on_commit(waker)


# --- the webhook outbox -------------------------------------------------------------------------

EVENT_TYPES = {
    "published": "article.published",
    "updated": "article.updated",
    "review_due": "article.review_due",
    "withdrawn": "article.withdrawn",
}


def enqueue(*, article: Any, type: str, revision_hash: str) -> list[WebhookDelivery]:
    event_type = EVENT_TYPES[type]
    now = timezone.now()
    message_id = f"msg_{uuid.uuid4().hex}"
    payload = {
        "type": event_type,
        "timestamp": now.isoformat(),
        "data": {"slug": article.slug, "revision": revision_hash, "url": article_api_url(article.slug)},
    }
    deliveries = [
        WebhookDelivery(message_id=message_id, endpoint=endpoint, event_type=event_type, payload=payload,
                        next_attempt_at=now)
        for endpoint in WebhookEndpoint.objects.filter(is_active=True)
        if endpoint.wants(event_type)
    ]
    if deliveries:
        WebhookDelivery.objects.bulk_create(deliveries)
        _wake(WEBHOOKS)
    return deliveries


def enqueue_many(changes: Iterable[tuple[str, Any, str]]) -> int:
    """`enqueue` for several (type, article, revision_hash) changes at once (`article` needs only
    `slug`): one query for the endpoints, one statement for the rows (COPY on PostgreSQL), one
    delivery task queued after commit: the bulk path of the background jobs. Returns the number
    of deliveries written."""
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True).values_list("pk", "event_types"))
    if not endpoints:
        return 0
    now = timezone.now()
    timestamp = now.isoformat()
    wanted: dict[str, list[int]] = {}
    rows = []
    for type, article, revision_hash in changes:
        event_type = EVENT_TYPES[type]
        if event_type not in wanted:
            wanted[event_type] = [pk for pk, types in endpoints
                                  if WebhookEndpoint(event_types=types).wants(event_type)]
        if not wanted[event_type]:
            continue
        message_id = f"msg_{uuid.uuid4().hex}"
        payload = JSONText(json.dumps({
            "type": event_type,
            "timestamp": timestamp,
            "data": {"slug": article.slug, "revision": revision_hash, "url": article_api_url(article.slug)},
        }))
        rows += [(message_id, endpoint_id, event_type, payload, WebhookDelivery.Status.PENDING.value, 0, now, now)
                 for endpoint_id in wanted[event_type]]
    if not rows:
        return 0
    written = insert_rows(WebhookDelivery, ("message_id", "endpoint_id", "event_type", "payload", "status",
                                                 "attempts", "next_attempt_at", "created_at"), rows)
    _wake(WEBHOOKS)
    return written


# --- notifications: every one opens the exact item it is about, for its recipient -------------

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
    _wake(EMAILS)
    return created


NOTIFY_FIELDS = ("recipient_id", "kind", "subject", "body", "url", "article_id", "assignment_id")


def notify_rows(rows: Iterable[tuple[int, str, str, str, str, int | None, int | None]]) -> int:
    """`notify_many` for the background jobs' volumes: rows of (recipient_id, kind, subject, body,
    url, article_id, assignment_id) written in one statement (COPY on PostgreSQL) with no model
    instance built; the same rows, and the same single email task queued after commit (the
    emails then go exactly as for `notify`: claimed in batches by `send_pending_emails`).
    Returns the number of notifications written."""
    now = timezone.now()
    written = insert_rows(
        Notification, (*NOTIFY_FIELDS, "created_at", "email_attempts", "email_error"),
        ((recipient_id, str(kind), subject[:300], body, url, article_id, assignment_id, now, 0, "")
         for recipient_id, kind, subject, body, url, article_id, assignment_id in rows))
    if written:
        _wake(EMAILS)
    return written
