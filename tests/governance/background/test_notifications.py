"""Notifications in the admin: each reviewer sees and dismisses their own; the managing editor
sees the overdue reviews. Emails are sent after commit, once, and retried when they fail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.background import notifications
from governance.models import Notification, ReviewReminder
from governance.workflow.exceptions import NotPermitted
from reviewers.models import ReviewAssignment


@pytest.fixture
def note(board):
    def make(user, subject="Re-review requested: Living with heart failure"):
        [created] = notifications.notify(recipients=[user], kind=Notification.Kind.REVIEW_REQUESTED,
                                         subject=subject, body="Please re-review.")
        return created

    return make


def test_a_reviewer_sees_only_their_own_notifications(client, board, note):
    mine, theirs = note(board[0].user, "For reviewer one"), note(board[1].user, "For reviewer two")
    client.force_login(board[0].user)
    page = client.get("/admin/governance/notification/")
    assert page.status_code == 200
    assert b"For reviewer one" in page.content and b"For reviewer two" not in page.content
    assert client.get(f"/admin/governance/notification/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/governance/notification/{theirs.pk}/change/").status_code in (302, 403, 404)


def test_a_reviewer_dismisses_their_notifications(client, board, note):
    mine, theirs = note(board[0].user), note(board[1].user)
    client.force_login(board[0].user)
    response = client.post("/admin/governance/notification/",
                           {"action": "dismiss", "_selected_action": [mine.pk, theirs.pk]}, follow=True)
    assert response.status_code == 200
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.dismissed_at is not None and theirs.dismissed_at is None
    assert list(notifications.inbox(board[0].user)) == []


def test_nobody_dismisses_someone_elses_notification(board, note):
    with pytest.raises(NotPermitted):
        notifications.notification_dismiss(notification=note(board[1].user), actor=board[0].user)


def test_the_managing_editor_sees_the_overdue_reviews(client, chief, make_article, drive, board, django_assert_max_num_queries):
    for i in range(3):
        drive(make_article(title=f"Overdue {i}"), "in_review")
    ReviewAssignment.objects.filter(reviewer=board[0]).update(due_at=timezone.now() - dt.timedelta(days=9))
    late = ReviewAssignment.objects.filter(reviewer=board[0]).first()
    ReviewReminder.objects.create(assignment=late, kind="escalation", created_at=timezone.now(), sent_at=timezone.now())
    client.force_login(chief)
    with django_assert_max_num_queries(15):
        page = client.get("/admin/governance/overduereview/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count(board[0].printed_name) >= 3
    assert board[1].printed_name not in text  # not overdue
    client.force_login(board[0].user)
    assert client.get("/admin/governance/overduereview/").status_code == 403


def test_emails_go_once_and_a_failure_is_retried(board, note, settings):
    settings.EMAIL_BACKEND = "tests.governance.background.test_reminders.BrokenBackend"
    notification = note(board[0].user)
    assert notifications.send_pending_emails() == 0
    notification.refresh_from_db()
    assert notification.emailed_at is None and notification.email_attempts == 1
    assert "mail server down" in notification.email_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.send_pending_emails() == 1
    assert notifications.send_pending_emails() == 0
    assert [m.to for m in mail.outbox] == [[board[0].user.email]]


class CountingBackend(BaseEmailBackend):
    """locmem-like: counts the connections opened and the messages sent over them."""

    opened: list[int] = []

    def open(self):
        CountingBackend.opened.append(0)
        return True

    def send_messages(self, messages):
        CountingBackend.opened[-1] += len(messages)
        mail.outbox.extend(messages)
        return len(messages)


def test_emails_go_in_batches_over_one_connection(board, note, settings):
    """3 emails and 12 emails: the same statements (claim, read, mark) and one mail connection."""
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.opened = []

    def run() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            count = notifications.send_pending_emails()
        return count, len(queries)

    for member in board[:3]:
        note(member.user)
    few, few_queries = run()
    for i in range(12):
        note(board[i % len(board)].user, subject=f"Re-review requested: article {i}")
    many, many_queries = run()
    assert (few, many) == (3, 12)
    assert many_queries == few_queries
    assert CountingBackend.opened == [3, 12]
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0
    assert notifications.send_pending_emails() == 0


class SlowBackend(BaseEmailBackend):
    """A minute per message (the clock is moved); once a claim could have run out, a second
    worker sends the pending emails in the middle of the batch."""

    clock = None
    started = None
    armed = False
    second_run: list[int] = []

    def send_messages(self, messages):
        mail.outbox.extend(messages)
        SlowBackend.clock.shift(dt.timedelta(minutes=1))
        if SlowBackend.armed and timezone.now() > SlowBackend.started + notifications.EMAIL_LEASE:
            SlowBackend.armed = False
            SlowBackend.second_run.append(notifications.send_pending_emails())
        return len(messages)


def test_a_batch_outlasting_its_lease_sends_no_email_twice_and_loses_none(board, note, settings):
    import time_machine

    for i in range(12):
        note(board[i % len(board)].user, subject=f"Re-review requested: article {i}")
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        SlowBackend.clock, SlowBackend.started, SlowBackend.second_run = clock, timezone.now(), []
        SlowBackend.armed = True
        first = notifications.send_pending_emails()
        SlowBackend.armed = False
        assert 0 < first < 12
        total = first
        while count := notifications.send_pending_emails():
            total += count
    assert total == 12 and SlowBackend.second_run == []
    assert len(mail.outbox) == 12 == len({m.subject for m in mail.outbox})
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert set(Notification.objects.values_list("email_attempts", flat=True)) == {1}  # untried ones not counted


class StolenClaimBackend(BaseEmailBackend):
    """Fails after another worker has claimed the email: the failure must not free that claim."""

    def send_messages(self, messages):
        Notification.objects.update(email_claimed_until=timezone.now() + dt.timedelta(days=1))
        raise ConnectionRefusedError("mail server down")


def test_a_release_does_not_clear_another_workers_email_claim(board, note, settings):
    settings.EMAIL_BACKEND = f"{__name__}.StolenClaimBackend"
    notification = note(board[0].user)
    assert notifications.send_pending_emails() == 0
    notification.refresh_from_db()
    assert notification.emailed_at is None and notification.email_claimed_until is not None
