"""Celery tasks: thin wrappers that load by id and call services. All use acks_late (settings)
and are idempotent; none holds a database transaction across a network call."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="governance.publish_scheduled_articles")
def publish_scheduled_articles() -> list[str]:
    """Publish every scheduled article whose time has come."""
    return services.publish_scheduled_due()


@shared_task(name="governance.deliver_webhooks")
def deliver_webhooks() -> int:
    """Deliver pending webhook deliveries (see governance.delivery)."""
    from . import delivery

    return delivery.deliver_pending()
