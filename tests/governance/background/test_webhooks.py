"""Webhook delivery: signed per Standard Webhooks, to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
import requests
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from governance.background import delivery
from governance.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.reliability.conftest import wait_until

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def endpoint(webhook_receiver):
    return WebhookEndpoint.objects.create(name="site", url=webhook_receiver.url, secret=SECRET)


@pytest.fixture
def published(make_article, drive, endpoint):
    return drive(make_article(), "published")


def pending(article=None):
    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)


def test_it_delivers_a_signed_event_that_the_library_verifies(published, webhook_receiver):
    row = pending().get()
    assert delivery.deliver(row.pk) == "delivered"

    [received] = webhook_receiver.requests
    payload = Webhook(SECRET).verify(received.body, received.headers)
    assert payload["type"] == "article.published"
    assert payload["data"]["slug"] == published.slug
    assert payload["data"]["revision"] == published.live_snapshot.revision.content_hash
    assert dt.datetime.fromisoformat(payload["timestamp"])  # ISO 8601
    assert received.headers["webhook-id"] == row.message_id
    row.refresh_from_db()
    assert row.status == "delivered" and row.attempts == 1 and row.delivered_at is not None
    assert WebhookAttempt.objects.get(delivery=row).status_code == 200


def test_it_signs_each_endpoints_deliveries_with_that_endpoints_secret(make_article, drive, webhook_receiver):
    """Two subscribers, two secrets: each delivery verifies with its own endpoint's secret only
    (one subscriber's secret never signs, or verifies, what another receives)."""
    from tests.reliability.http_receiver import Receiver

    other_secret = "whsec_" + "QUJD" * 8
    other_receiver = Receiver().start()
    try:
        first = WebhookEndpoint.objects.create(name="site", url=webhook_receiver.url, secret=SECRET)
        second = WebhookEndpoint.objects.create(name="mirror", url=other_receiver.url, secret=other_secret)
        drive(make_article(), "published")
        for row in pending():
            assert delivery.deliver(row.pk) == "delivered"
    finally:
        other_receiver.stop()

    assert {d.endpoint_id for d in WebhookDelivery.objects.all()} == {first.pk, second.pk}
    [to_first], [to_second] = webhook_receiver.requests, other_receiver.requests
    assert Webhook(SECRET).verify(to_first.body, to_first.headers)["type"] == "article.published"
    assert Webhook(other_secret).verify(to_second.body, to_second.headers)["type"] == "article.published"
    with pytest.raises(Exception, match="signature"):
        Webhook(other_secret).verify(to_first.body, to_first.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(SECRET).verify(to_second.body, to_second.headers)


def test_it_retries_with_the_same_webhook_id_and_backs_off(published, webhook_receiver):
    webhook_receiver.respond(200, first=[500, 503])
    row = pending().get()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:

        def attempt(expected):
            assert delivery.deliver(row.pk) == expected
            received = webhook_receiver.requests[-1]  # signed now, with this attempt's timestamp
            assert Webhook(SECRET).verify(received.body, received.headers)["type"] == "article.published"

        attempt("retry")
        row.refresh_from_db()
        assert row.next_attempt_at == start + delivery.RETRY_SCHEDULE[0]
        assert delivery.deliver(row.pk) == "skipped"  # not due yet
        clock.shift(delivery.RETRY_SCHEDULE[0])
        attempt("retry")
        row.refresh_from_db()
        assert row.next_attempt_at == timezone.now() + delivery.RETRY_SCHEDULE[1]
        clock.shift(delivery.RETRY_SCHEDULE[1])
        attempt("delivered")
    assert webhook_receiver.message_ids() == [row.message_id] * 3
    assert list(WebhookAttempt.objects.filter(delivery=row).order_by("at").values_list("status_code", flat=True)) == [
        500, 503, 200]


def test_it_gives_up_after_the_last_retry(published, webhook_receiver):
    webhook_receiver.respond(500)
    row = pending().get()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for wait in delivery.RETRY_SCHEDULE:
            assert delivery.deliver(row.pk) == "retry"
            clock.shift(wait)
        assert delivery.deliver(row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == delivery.MAX_ATTEMPTS
    assert WebhookAttempt.objects.filter(delivery=row).count() == delivery.MAX_ATTEMPTS


def test_it_disables_an_endpoint_that_answers_410(published, webhook_receiver, endpoint, chief):
    from governance.workflow import services

    services.article_withdraw(article=published, actor=chief, reason="Superseded by new guidance")
    first, second = WebhookDelivery.objects.order_by("pk")
    webhook_receiver.respond(410)
    assert delivery.deliver(first.pk) == "disabled"
    endpoint.refresh_from_db()
    second.refresh_from_db()
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    assert second.status == "disabled"
    assert delivery.deliver(second.pk) == "skipped"
    assert len(webhook_receiver.requests) == 1
    from governance.models import AuditEvent

    [disabled] = AuditEvent.objects.filter(action="webhook_endpoint.update")  # a configuration change, audited
    assert disabled.actor_username == "system" and disabled.object_id == str(endpoint.pk)
    assert disabled.data["changed"] == {"is_active": [True, False], "disabled_reason": ["", endpoint.disabled_reason]}


def test_it_refuses_loopback_targets_unless_allowed(published, webhook_receiver, settings):
    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = False
    row = pending().get()
    assert delivery.deliver(row.pk) == "failed"
    assert webhook_receiver.requests == []
    assert "127.0.0.1" in WebhookAttempt.objects.get(delivery=row).error


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://localhost:8080/", "http://10.1.2.3/",
                                 "http://169.254.169.254/latest/", "http://[::1]/", "ftp://example.org/"])
def test_it_names_why_a_target_is_refused(url, settings):
    assert delivery.target_refusal(url, allow_private=False)


def test_it_times_out_a_slow_endpoint_quickly(published, webhook_receiver, settings):
    settings.IMPRIMATUR_WEBHOOK_TIMEOUT = 1
    webhook_receiver.respond(200, delay=3)
    row = pending().get()
    started = timezone.now()
    assert delivery.deliver(row.pk) == "retry"
    assert timezone.now() - started < dt.timedelta(seconds=2.5)
    assert "Timeout" in WebhookAttempt.objects.get(delivery=row).error


def test_the_sweep_queues_one_task_per_due_delivery(published, endpoint, monkeypatch, make_article, drive, chief):
    from governance.background import tasks
    from governance.workflow import services

    WebhookEndpoint.objects.create(name="second", url=endpoint.url, secret=SECRET)
    services.article_withdraw(article=published, actor=chief, reason="Superseded by new guidance")
    queued = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda pk, claim: queued.append(pk))
    assert delivery.deliver_pending() == 3  # publish (1 endpoint then) + withdraw (2 endpoints)
    assert sorted(queued) == sorted(pending().values_list("pk", flat=True))


def test_the_sweep_caps_deliveries_in_flight_per_endpoint_and_never_queues_one_twice(
        published, endpoint, monkeypatch, settings):
    from governance.background import tasks, webhooks

    settings.IMPRIMATUR_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = 2
    other = WebhookEndpoint.objects.create(name="other", url=endpoint.url, secret=SECRET)
    revision = published.live_snapshot.revision.content_hash
    for _ in range(5):
        webhooks.enqueue(article=published, type="updated", revision_hash=revision)  # both endpoints
    assert pending().filter(endpoint=endpoint).count() == 6 and pending().filter(endpoint=other).count() == 5
    queued = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda pk, claim: queued.append((pk, claim)))
    assert delivery.deliver_pending() == 4  # two per endpoint, the oldest first
    firsts = {e.pk: list(pending().filter(endpoint=e).order_by("next_attempt_at", "pk")
                         .values_list("pk", flat=True)[:2]) for e in (endpoint, other)}
    assert sorted(pk for pk, _ in queued) == sorted(firsts[endpoint.pk] + firsts[other.pk])
    assert delivery.deliver_pending() == 0  # the commit kick and the sweep again: nothing queued twice
    assert len(queued) == 4

    # One attempt ends: its endpoint's slot is free and the next of that endpoint is queued at once.
    pk, claim = queued[0]
    assert delivery.deliver(pk, claim) == "delivered"
    assert len(queued) == 5 and WebhookDelivery.objects.get(pk=queued[4][0]).endpoint_id == \
        WebhookDelivery.objects.get(pk=pk).endpoint_id
    assert delivery.deliver(pk, claim) == "skipped"  # a duplicate task does nothing


def test_a_task_whose_claim_was_taken_over_does_nothing(published, endpoint, monkeypatch, webhook_receiver):
    from governance.background import tasks

    queued = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda pk, claim: queued.append((pk, claim)))
    row = pending().get()
    with time_machine.travel(timezone.now()) as clock:
        assert delivery.deliver_pending() == 1
        clock.shift(dt.timedelta(seconds=delivery.settings.IMPRIMATUR_WEBHOOK_LEASE_SECONDS + 1))
        assert delivery.deliver_pending() == 1  # the claim ran out (its task lost): queued again
        (_, stale), (_, fresh) = queued
        assert delivery.deliver(row.pk, stale) == "skipped"
        assert delivery.deliver(row.pk, fresh) == "delivered"
    assert len(webhook_receiver.requests) == 1


def test_add_webhook_prints_the_secret_once_and_it_signs(db, webhook_receiver):
    out = io.StringIO()
    call_command("add_webhook", webhook_receiver.url, "--events", "article.published", "article.withdrawn",
                 stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    endpoint = WebhookEndpoint.objects.get()
    assert secret.startswith("whsec_") and endpoint.secret == secret
    assert endpoint.event_types == ["article.published", "article.withdrawn"]
    Webhook(secret)  # a valid Standard Webhooks secret


def test_add_webhook_names_the_bad_argument(db, settings):
    settings.IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(CommandError, match="--events: unknown event type"):
        call_command("add_webhook", "https://example.org/hook", "--events", "article.deleted")
    with pytest.raises(CommandError, match=r"url: .*private"):
        call_command("add_webhook", "http://127.0.0.1:9/hook")
    assert not WebhookEndpoint.objects.exists()


def test_it_holds_no_transaction_open_during_the_http_call(live_db, writer, make_article, drive, webhook_receiver,
                                                          monkeypatch):
    WebhookEndpoint.objects.create(name="site", url=webhook_receiver.url, secret=SECRET)
    drive(make_article(), "published")
    seen = []
    real_send = requests.adapters.HTTPAdapter.send

    def send(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return real_send(*args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    delivery.deliver(pending().get().pk)
    assert seen == [False]


@pytest.mark.postgres
def test_two_workers_deliver_a_row_once(live_db, writer, make_article, drive, webhook_receiver):
    WebhookEndpoint.objects.create(name="site", url=webhook_receiver.url, secret=SECRET)
    drive(make_article(), "published")
    row = pending().get()
    barrier = threading.Barrier(4)
    outcomes = []

    def worker():
        barrier.wait()
        try:
            outcomes.append(delivery.deliver(row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["delivered", "skipped", "skipped", "skipped"]
    assert len(webhook_receiver.requests) == 1
    assert transaction.get_autocommit()


@pytest.mark.postgres
def test_two_sweeps_at_once_never_claim_more_than_the_cap(live_db, writer, make_article, drive, webhook_receiver,
                                                          monkeypatch, settings):
    """Two attempts of one endpoint end together and each queues the endpoint's next: the first
    sweep has counted the slots in flight when the second claims. Unless counting and claiming are
    one step per endpoint, the first then claims the next rows too and the endpoint holds four
    slots. Made deterministic: the first sweep waits, after counting, for the second to finish."""
    from governance.background import tasks, webhooks

    settings.IMPRIMATUR_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = 2
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda pk, claim: None)
    site = WebhookEndpoint.objects.create(name="site", url=webhook_receiver.url, secret=SECRET)
    article = drive(make_article(), "published")
    for _ in range(5):
        webhooks.enqueue(article=article, type="updated", revision_hash=article.live_snapshot.revision.content_hash)
    pending().update(claimed_until=None)  # what the commit kicks claimed: six due rows, none in flight
    assert pending().count() == 6
    claimed = []
    second_done = threading.Event()

    def sweep(done=None):
        try:
            claimed.append(delivery.deliver_pending(endpoint_id=site.pk))
        finally:
            connection.close()
            if done:
                done.set()

    first = threading.Thread(target=sweep)
    second = threading.Thread(target=sweep, args=(second_done,))
    first_counted = threading.Event()
    real_due = delivery.due

    def second_finished_or_blocked() -> bool:
        """The second sweep is done, or waits for a lock the first holds (counting and claiming
        one step per endpoint: it cannot get past the endpoint's row)."""
        if second_done.is_set():
            return True
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            return cursor.fetchone()[0] > 0

    def due(now=None):
        if threading.current_thread() is first:
            first_counted.set()
            wait_until(second_finished_or_blocked, timeout=30, every=0.02)
        return real_due(now)

    monkeypatch.setattr(delivery, "due", due)
    first.start()
    assert first_counted.wait(timeout=30)  # the first has counted and waits in due()
    second.start()
    for thread in (first, second):
        thread.join(timeout=30)
    assert sorted(claimed) == [0, 2]
    assert pending().filter(claimed_until__isnull=False).count() == 2


def test_a_malformed_secret_fails_the_delivery_and_says_why(published, endpoint, webhook_receiver):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret="whsec_")
    row = pending().get()
    assert delivery.deliver(row.pk) == "failed"
    assert "cannot sign" in WebhookAttempt.objects.get(delivery=row).error
    assert webhook_receiver.requests == []


def test_an_unexpected_error_is_logged_as_an_attempt_and_backed_off(published, monkeypatch):
    def explode(*args, **kwargs):
        raise ValueError("Invalid header value b'\\n'")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", explode)
    row = pending().get()
    before = timezone.now()
    assert delivery.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 1 and row.claimed_until is None
    assert row.next_attempt_at >= before + delivery.RETRY_SCHEDULE[0]
    assert "ValueError: Invalid header value" in WebhookAttempt.objects.get(delivery=row).error


def test_a_change_that_rolls_back_leaves_no_outbox_row(published, endpoint, chief,
                                                      django_capture_on_commit_callbacks):
    from governance.models import ChangeEvent
    from governance.workflow import services

    deliveries, changes = WebhookDelivery.objects.count(), ChangeEvent.objects.count()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        services.article_withdraw(article=published, actor=chief, reason="Superseded by new guidance")
        assert WebhookDelivery.objects.count() == deliveries + 1  # written inside the change's transaction
        assert ChangeEvent.objects.count() == changes + 1
        raise RuntimeError("the change fails after the event was written")
    assert WebhookDelivery.objects.count() == deliveries and ChangeEvent.objects.count() == changes
    assert not WebhookDelivery.objects.filter(event_type="article.withdrawn").exists()
    published.refresh_from_db()
    assert published.state == "published"
    assert callbacks == []  # no delivery queued for an event that never happened
