"""Webhooks, part one: the transactional outbox. `enqueue` writes one WebhookDelivery row per
interested endpoint inside the caller's transaction; delivery (signing, retries, back-off) runs
on Celery after commit and from a periodic sweep (governance.delivery)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import WebhookDelivery, WebhookEndpoint
from .snapshots import article_api_url

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
        from .tasks import deliver_webhooks

        deliver_webhooks.apply_async(retry=False)
    except Exception:  # broker unreachable: the sweep will pick the rows up
        import logging

        logging.getLogger(__name__).warning("could not queue webhook delivery; the sweep will retry", exc_info=True)


def enqueue_many(changes: list[tuple[str, Any, str]]) -> list[WebhookDelivery]:
    """`enqueue` for several (type, article, revision_hash) changes at once: one query for the
    endpoints, one INSERT (the bulk path of the background jobs)."""
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
    now = timezone.now()
    deliveries = []
    for type, article, revision_hash in changes:
        event_type = EVENT_TYPES[type]
        message_id = f"msg_{uuid.uuid4().hex}"
        payload = {
            "type": event_type,
            "timestamp": now.isoformat(),
            "data": {"slug": article.slug, "revision": revision_hash, "url": article_api_url(article.slug)},
        }
        deliveries += [
            WebhookDelivery(message_id=message_id, endpoint=endpoint, event_type=event_type, payload=payload,
                            next_attempt_at=now)
            for endpoint in endpoints if endpoint.wants(event_type)
        ]
    if deliveries:
        WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)
        transaction.on_commit(_kick_delivery)
    return deliveries
