"""Faults with a real worker on Redis: a worker killed mid-delivery, Redis down at publish time,
a slow endpoint next to fast ones. At-least-once: nothing is lost."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from articles.models import Article
from governance.background import schedules, webhooks
from governance.background.tasks import deliver_webhooks
from governance.models import WebhookDelivery, WebhookEndpoint

from .conftest import REDIS_URL, use_broker, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.worker]

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class ClaimSampler:
    """Counts, every 50 ms on its own connection, an endpoint's deliveries claimed by the sweep
    (queued or in flight) until stopped; `stop()` returns the most seen at once."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint, self.samples, self.done = endpoint, [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        try:
            while not self.done.wait(0.05):
                self.samples.append(WebhookDelivery.objects.filter(
                    endpoint__name=self.endpoint, status="pending", claimed_until__gte=timezone.now()).count())
        finally:
            connection.close()

    def start(self) -> ClaimSampler:
        self.thread.start()
        return self

    def stop(self) -> int:
        self.done.set()
        self.thread.join(timeout=10)
        return max(self.samples, default=0)


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
        from governance.workflow import services

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


def test_a_slow_endpoint_does_not_delay_the_others(start_worker, celery_env, webhook_receiver, make_article, drive):
    """A backlog of deliveries to an endpoint that never answers in time, then one event for a
    fast endpoint too, queued last. Were every due row queued in order into the one pool, the
    fast one would wait for the slow backlog to time out attempt by attempt; capped per endpoint,
    it waits for at most one round of the slow endpoint's in-flight attempts."""
    from tests.reliability.http_receiver import Receiver

    slow, sampler = Receiver().start(), None
    try:
        slow.respond(200, delay=30)  # far longer than the worker's read timeout
        WebhookEndpoint.objects.create(name="slow", url=slow.url, secret=SECRET)
        article = drive(make_article(), "published")
        revision = article.live_snapshot.revision.content_hash
        backlog = 20
        for _ in range(backlog - 1):
            with transaction.atomic():
                webhooks.enqueue(article=article, type="updated", revision_hash=revision)
        WebhookEndpoint.objects.create(name="fast", url=webhook_receiver.url, secret=SECRET)
        with transaction.atomic():  # the newest event: to the slow endpoint and the fast one
            webhooks.enqueue(article=article, type="updated", revision_hash=revision)
        assert WebhookDelivery.objects.filter(endpoint__name="slow").count() == backlog + 1

        concurrency = 2
        per_endpoint = 2  # IMPRIMATUR_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT's default
        sampler = ClaimSampler("slow").start()  # the slow endpoint's rows claimed, every 50 ms
        start_worker(concurrency=concurrency)
        wait_until(lambda: len(webhook_receiver.requests) == 1, timeout=60)
        # Counted, not timed: how many slow attempts had begun when the fast one arrived. Queued in
        # order into the one pool, the whole backlog (20) would have gone first; capped per
        # endpoint, at most a round or two of the slow endpoint's in-flight attempts.
        slow_before_fast = sum(r.at <= webhook_receiver.requests[0].at for r in list(slow.requests))
        assert slow_before_fast <= 2 * per_endpoint < backlog, slow_before_fast
        # The receiver answers before the worker records the attempt: wait for the row.
        wait_until(lambda: WebhookDelivery.objects.get(endpoint__name="fast").status == "delivered", timeout=30)
        # A few more rounds of the slow endpoint's attempts (counted), the cap watched meanwhile.
        wait_until(lambda: len(slow.requests) >= slow_before_fast + 2 * per_endpoint, timeout=60)
        peak = sampler.stop()
        assert len(slow.requests) >= per_endpoint  # its attempts went on beside the fast one
        assert peak == per_endpoint, sampler.samples  # never more claimed (queued or in flight) at once
        wait_until(lambda: WebhookDelivery.objects.filter(endpoint__name="slow", attempts=1).count() >= 4,
                   timeout=30)
        failed = WebhookDelivery.objects.filter(endpoint__name="slow", attempts=1).first()
        assert failed.status == "pending" and "Timeout" in failed.attempt_log.get().error
    finally:
        if sampler is not None:
            sampler.stop()  # its thread must not outlive the test's database access
        slow.stop()
