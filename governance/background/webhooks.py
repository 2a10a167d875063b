"""Webhooks, part one: the transactional outbox. `enqueue` writes one WebhookDelivery row per
interested endpoint inside the caller's transaction; delivery (signing, retries, back-off) runs
on Celery after commit and from a periodic sweep (governance.background.delivery)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from governance.background import bulk
from governance.models import WebhookDelivery, WebhookEndpoint
from governance.workflow.snapshots import article_api_url

logger = logging.getLogger(__name__)

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
        transaction.on_commit(_kick_delivery)
    return deliveries


def _kick_delivery() -> None:
    """After commit, ask a worker to deliver now. If the broker is down the rows stay pending
    and the periodic sweep delivers them later: nothing is lost."""
    try:
        # tasks → staleness → webhooks: importing tasks at the top would close a cycle.
        from governance.background.tasks import deliver_webhooks

        deliver_webhooks.apply_async(retry=False)
    except Exception:  # broker unreachable: the sweep will pick the rows up
        logger.warning("could not queue webhook delivery; the sweep will retry", exc_info=True)


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
        payload = bulk.JSONText(json.dumps({
            "type": event_type,
            "timestamp": timestamp,
            "data": {"slug": article.slug, "revision": revision_hash, "url": article_api_url(article.slug)},
        }))
        rows += [(message_id, endpoint_id, event_type, payload, WebhookDelivery.Status.PENDING.value, 0, now, now)
                 for endpoint_id in wanted[event_type]]
    if not rows:
        return 0
    written = bulk.insert_rows(WebhookDelivery, ("message_id", "endpoint_id", "event_type", "payload", "status",
                                                 "attempts", "next_attempt_at", "created_at"), rows)
    transaction.on_commit(_kick_delivery)
    return written
