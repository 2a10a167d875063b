"""Faults with a real worker on Redis: a worker killed mid-delivery, Redis down at publish time,
a slow endpoint next to fast ones. At-least-once: nothing is lost."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from standardwebhooks import Webhook

from articles.models import Article
from governance import schedules, webhooks
from governance.models import WebhookDelivery, WebhookEndpoint
from governance.tasks import deliver_webhooks

from .conftest import REDIS_URL, use_broker, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.worker]

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def delivered() -> int:
    return WebhookDelivery.objects.filter(status="delivered").count()


def test_a_worker_killed_mid_delivery_loses_nothing(start_worker, webhook_receiver, make_article, drive):
    WebhookEndpoint.objects.create(name="site", url=webhook_receiver.url, secret=SECRET)
    article = drive(make_article(), "published")  # one event, queued on commit
    for _ in range(15):
        with transaction.atomic():
            webhooks.enqueue(article=article, type="updated", revision_hash=article.live_snapshot.revision.content_hash)
    expected = set(WebhookDelivery.objects.values_list("message_id", flat=True))
    assert len(expected) == 16
    webhook_receiver.respond(200, delay=0.4)

    worker = start_worker(concurrency=2)
    wait_until(lambda: len(webhook_receiver.requests) >= 3, on_timeout=worker.tail)
    worker.kill()  # SIGKILL, mid-request for the deliveries in flight
    assert delivered() < 16

    worker = start_worker(concurrency=2)
    webhook_receiver.respond(200)

    def all_delivered() -> bool:
        deliver_webhooks.delay()  # what beat's sweep does every minute
        return delivered() == 16

    wait_until(all_delivered, timeout=60, every=1.5, on_timeout=worker.tail)
    assert set(webhook_receiver.message_ids()) == expected  # every event, at least once
    for received in webhook_receiver.requests[-3:]:
        Webhook(SECRET).verify(received.body, received.headers)


def test_redis_down_at_publish_keeps_the_event_until_it_is_back(start_worker, start_beat, webhook_receiver,
                                                                make_article, drive):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    WebhookEndpoint.objects.create(name="site", url=webhook_receiver.url, secret=SECRET)
    article = drive(make_article(), "approved")
    use_broker("redis://127.0.0.1:1/5")  # nothing listens there: the broker refuses
    try:
        from governance import services

        published = services.article_publish(article=Article.objects.get(pk=article.pk),
                                             actor=article.created_by.__class__.objects.get(username="chief"))
    finally:
        use_broker(REDIS_URL)
    assert published.state == "published"
    row = WebhookDelivery.objects.get()
    assert (row.status, row.attempts, row.event_type) == ("pending", 0, "article.published")

    # Redis is back: beat's sweep (from the schedule stored in the database, made fast here)
    # and a worker deliver it.
    schedules.sync()
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(task="governance.deliver_webhooks").update(interval=every_second)
    PeriodicTask.objects.exclude(task="governance.deliver_webhooks").update(enabled=False)
    worker = start_worker(concurrency=1)
    start_beat()
    wait_until(lambda: delivered() == 1, timeout=45, on_timeout=worker.tail)
    [received] = webhook_receiver.requests
    assert received.headers["webhook-id"] == row.message_id
    assert Webhook(SECRET).verify(received.body, received.headers)["data"]["slug"] == article.slug


def test_a_slow_endpoint_does_not_delay_the_others(start_worker, webhook_receiver, make_article, drive):
    from tests.reliability.http_receiver import Receiver

    slow = Receiver().start()
    try:
        slow.respond(200, delay=10)  # longer than the worker's 2 s timeout
        WebhookEndpoint.objects.create(name="slow", url=slow.url, secret=SECRET)
        for i in range(3):
            WebhookEndpoint.objects.create(name=f"fast{i}", url=webhook_receiver.url, secret=SECRET)
        drive(make_article(), "published")
        started = time.monotonic()
        start_worker(concurrency=2)
        wait_until(lambda: len(webhook_receiver.requests) == 3, timeout=30)
        fast_done = time.monotonic() - started
        wait_until(lambda: WebhookDelivery.objects.filter(endpoint__name="slow", attempts=1).exists(), timeout=30)
        slow_row = WebhookDelivery.objects.get(endpoint__name="slow")
        assert slow_row.status == "pending" and "Timeout" in slow_row.attempt_log.get().error
        assert WebhookDelivery.objects.filter(status="delivered").count() == 3
        assert fast_done < 15
    finally:
        slow.stop()
