"""The one claim → send → settle helper (governance.background.claims) that reminders, notification
emails and webhook deliveries share: a row goes at most once, a row another worker holds goes to
nobody else, and nothing claimed is lost when the mail server cannot be reached."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone

from governance.background import claims, webhooks
from governance.models import Notification, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

COLUMNS = claims.Columns(done="emailed_at", lease="email_claimed_until", attempts="email_attempts", error="email_error")
LEASE = dt.timedelta(minutes=5)


@pytest.fixture
def notes(board):
    return [Notification.objects.create(recipient=member.user, kind=Notification.Kind.REVIEW_REQUESTED,
                                        subject=f"Note {i}", body="Please re-review.", created_at=timezone.now())
            for i, member in enumerate(board)]


def send(note: Notification, batch: claims.Batch) -> None:
    batch.mail(EmailMessage(note.subject, note.body, to=[note.recipient.email]))


def send_all(notes, **kwargs):
    return claims.send_claimed(Notification, notes, key=lambda note: note.pk, columns=COLUMNS, lease=LEASE, send=send,
                               **kwargs)


def test_it_sends_each_claimed_row_once_and_settles_it_with_what_goes_with_it(notes):
    settled = []

    sent = send_all(notes, on_settled=lambda items, at: settled.append(([n.pk for n in items], at)))

    assert [n.pk for n in sent] == [n.pk for n in notes]
    assert sorted(m.subject for m in mail.outbox) == sorted(n.subject for n in notes)
    [(pks, at)] = settled
    assert pks == [n.pk for n in notes]
    assert set(Notification.objects.values_list("emailed_at", "email_claimed_until", "email_attempts")) == {(at, None, 1)}
    assert send_all(notes) == []  # done: claimed by nobody again
    assert len(mail.outbox) == len(notes)


def test_a_row_another_worker_holds_goes_to_nobody_else(notes):
    now = timezone.now()
    held = claims.claim(Notification, [notes[0].pk], lease="email_claimed_until", now=now, until=now + LEASE,
                        done="emailed_at", attempts="email_attempts")

    sent = send_all(notes)

    assert held == {notes[0].pk}
    assert notes[0] not in sent and len(sent) == len(notes) - 1
    assert notes[0].subject not in {m.subject for m in mail.outbox}
    assert Notification.objects.get(pk=notes[0].pk).email_claimed_until == now + LEASE  # still the other's claim


def test_an_unreachable_mail_server_leaves_every_row_unsent_for_the_next_run(notes, settings):
    with socket.socket() as probe:  # a port on which nothing listens: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2

    assert send_all(notes) == []

    rows = list(Notification.objects.values_list("emailed_at", "email_claimed_until", "email_attempts", "email_error"))
    assert len(rows) == len(notes)
    assert all(sent is None and lease is None and attempts == 1 and error for sent, lease, attempts, error in rows)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert len(send_all(notes)) == len(notes)  # released, not lost


def test_an_unsendable_row_is_released_with_its_reason(notes):
    def refuse_the_first(note, batch):
        if note.pk == notes[0].pk:
            raise claims.Unsendable("the recipient has no email address")
        send(note, batch)

    sent = claims.send_claimed(Notification, notes, key=lambda note: note.pk, columns=COLUMNS, lease=LEASE,
                               send=refuse_the_first)

    assert len(sent) == len(notes) - 1
    first = Notification.objects.get(pk=notes[0].pk)
    assert (first.emailed_at, first.email_claimed_until, first.email_error) == (
        None, None, "the recipient has no email address")


def test_it_claims_a_webhook_delivery_only_when_it_is_due(settings, writer, make_article):
    WebhookEndpoint.objects.create(name="site", url="https://hooks.example.org/in", secret="whsec_" + "A" * 32)
    [delivery] = webhooks.enqueue(article=make_article(), type="published", revision_hash="abc")
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + dt.timedelta(minutes=1))
    ready = [("status", "=", WebhookDelivery.Status.PENDING.value), ("next_attempt_at", "<=", now)]

    assert claims.claim(WebhookDelivery, [delivery.pk], lease="claimed_until", now=now, until=now + LEASE,
                        ready=ready) == set()
    later = now + dt.timedelta(minutes=2)
    ready = [("status", "=", WebhookDelivery.Status.PENDING.value), ("next_attempt_at", "<=", later)]
    assert claims.claim(WebhookDelivery, [delivery.pk], lease="claimed_until", now=later, until=later + LEASE,
                        ready=ready) == {delivery.pk}
    assert claims.claim(WebhookDelivery, [delivery.pk], lease="claimed_until", now=later, until=later + LEASE,
                        ready=ready) == set()  # held now
