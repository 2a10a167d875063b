"""Celery tasks: the thin top of the background jobs. Each loads by id and calls a job or a service
imported here; nothing imports this module but Celery and the jobs that queue a task (they import
it inside the function that queues, since this module imports them). All use acks_late (settings)
and are idempotent; none holds a database transaction across a network call."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from governance.background import delivery, notifications, reminders, retractions, staleness
from governance.workflow import services


@shared_task(name="governance.publish_scheduled_articles")
def publish_scheduled_articles() -> list[str]:
    """Publish every scheduled article whose time has come."""
    return services.publish_scheduled_due()


@shared_task(name="governance.deliver_webhooks")
def deliver_webhooks() -> int:
    """The outbox sweep: claim and queue due webhook deliveries (a few per endpoint at a time)."""
    return delivery.deliver_pending()


@shared_task(name="governance.deliver_webhook")
def deliver_webhook(delivery_id: int, claim: str | None = None) -> str:
    """Attempt one webhook delivery claimed by the sweep (`claim`: its lease, so a duplicate or
    stale task does nothing)."""
    return delivery.deliver(delivery_id, claim)


@shared_task(name="governance.flag_stale_articles")
def flag_stale_articles() -> dict[str, Any]:
    """Flag published articles past their review date; unpublish those past the grace period."""
    result = staleness.flag_stale_articles()
    return {"flagged": len(result.flagged), "re_review_requests": result.re_review_requests,
            "unpublished": result.unpublished}


@shared_task(name="governance.send_review_reminders")
def send_review_reminders() -> int:
    """Send the reviewer reminders and escalations due now."""
    return reminders.send_review_reminders()


@shared_task(name="governance.send_notification_emails")
def send_notification_emails() -> int:
    """Send the email copy of notifications not yet emailed (after commit, and as a sweep). A run
    that sent a full page queues the next page at once (a staleness sweep can notify hundreds of
    thousands); one with failures leaves the rest to the periodic sweep."""
    sent = notifications.send_pending_emails(limit=notifications.EMAILS_PER_RUN)
    if sent == notifications.EMAILS_PER_RUN:
        send_notification_emails.apply_async()
    return sent


@shared_task(name="governance.check_reference_integrity")
def check_reference_integrity() -> dict[str, Any]:
    """Download the Retraction Watch CSV if a URL is configured; flag articles citing retracted
    references."""
    return retractions.check_reference_integrity()
