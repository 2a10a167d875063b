"""send_review_reminders: before, on and after the due date; escalation; at most once each."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.background import reminders
from governance.models import Notification, ReviewPolicy, ReviewReminder
from reviewers.models import ReviewAssignment

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def assignment(clock, make_article, drive, board):
    """reviewer1's open assignment on an article under review, due ten days from START."""
    article = drive(make_article(), "in_review")
    ReviewAssignment.objects.filter(article=article).update(due_at=START + dt.timedelta(days=10))
    return ReviewAssignment.objects.get(article=article, reviewer=board[0])


def on_day(clock, day: int) -> int:
    clock.move_to(START + dt.timedelta(days=day, hours=1))
    return reminders.send_review_reminders()


def sent(assignment) -> list[tuple[str, int]]:
    return list(ReviewReminder.objects.filter(assignment=assignment, sent_at__isnull=False)
                .order_by("sent_at", "kind").values_list("kind", "repetition"))


def test_it_reminds_before_on_and_after_the_due_date_then_escalates(clock, assignment, chief, board):
    assert on_day(clock, 2) == 0
    assert on_day(clock, 3) == 2  # seven days before: both reviewers of the article
    assert on_day(clock, 4) == 0  # once only
    assert on_day(clock, 10) == 2  # due today
    assert on_day(clock, 11) == 2  # overdue #1, the day after the due date
    assert on_day(clock, 12) == 0
    assert on_day(clock, 14) == 2  # overdue #2, three days later
    assert on_day(clock, 17) == 4  # overdue #3, and the escalation to the managing editor (once per assignment)
    assert on_day(clock, 18) == 0
    assert sent(assignment) == [("before_due", 0), ("due", 0), ("overdue", 1), ("overdue", 2), ("escalation", 0),
                                ("overdue", 3)]
    reviewer_mail = [m for m in mail.outbox if m.to == [board[0].user.email]]
    assert [m.subject.split(":")[0] for m in reviewer_mail] == [
        "Review due in 7 days", "Review due today", "Review 1 day overdue (reminder 1)",
        "Review 4 days overdue (reminder 2)", "Review 7 days overdue (reminder 3)"]
    escalations = [m for m in mail.outbox if m.subject.startswith("Overdue review escalated")]
    assert {m.to[0] for m in escalations} == {chief.email}
    assert len(escalations) == 2  # one per overdue assignment


def test_it_only_tells_the_reviewer_concerned(clock, assignment, board):
    ReviewAssignment.objects.exclude(pk=assignment.pk).update(status="completed")
    on_day(clock, 3)
    assert [m.to for m in mail.outbox] == [[board[0].user.email]]
    notification = Notification.objects.get()
    assert notification.recipient == board[0].user and notification.kind == "reminder"
    assert notification.emailed_at is not None


def test_it_sends_only_the_latest_missed_reminder(clock, assignment):
    ReviewAssignment.objects.exclude(pk=assignment.pk).update(status="completed")
    assert on_day(clock, 21) == 2  # overdue #4 and the escalation, not the six it missed
    assert sorted(sent(assignment)) == [("escalation", 0), ("overdue", 4)]
    [reminder] = [m for m in mail.outbox if m.to == [assignment.reviewer.user.email]]
    assert reminder.subject.startswith("Review 11 days overdue (reminder 4):")


def test_a_due_reminder_missed_on_its_day_is_never_sent_late(clock, assignment, settings):
    """`due` is true only on the due date: failed that day, it is not sent the day after (the
    overdue reminder is)."""
    ReviewAssignment.objects.exclude(pk=assignment.pk).update(status="completed")
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    assert on_day(clock, 10) == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert on_day(clock, 11) == 1
    assert sent(assignment) == [("overdue", 1)]
    assert ReviewReminder.objects.get(kind="due").sent_at is None
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Review 1 day overdue (reminder 1)"]


def test_it_stops_when_the_review_is_done(clock, assignment):
    ReviewAssignment.objects.update(status="completed")
    assert on_day(clock, 13) == 0
    assert mail.outbox == []


def test_it_follows_the_policy(clock, assignment, topic):
    ReviewAssignment.objects.exclude(pk=assignment.pk).update(status="completed")
    ReviewPolicy.objects.create(topic=topic, remind_before_days=2, overdue_repeat_days=5, escalate_after_days=20)
    assert on_day(clock, 3) == 0
    assert on_day(clock, 8) == 1  # two days before
    assert on_day(clock, 10) == 1  # due today
    assert on_day(clock, 11) == 1  # overdue #1, the day after
    assert on_day(clock, 15) == 0
    assert on_day(clock, 16) == 1  # overdue #2, five days later
    assert on_day(clock, 30) == 2  # overdue #4 and the escalation; #3 was missed, not sent late
    assert sent(assignment) == [("before_due", 0), ("due", 0), ("overdue", 1), ("overdue", 2), ("escalation", 0),
                                ("overdue", 4)]


# --- the calendar: every day from 10 days before to 20 days after the due date ------------------

DUE_DAY = 10  # the assignment fixture's due date, in days from START: 12 March 2026
DUE_TEXT = "12 March 2026"

# What the daily run sends on each day (relative to the due date), with the default policy
# (remind 7 days before, overdue repeated every 3 days from the day after, escalation after 7).
DAILY = {-7: [("before_due", 0)], 0: [("due", 0)], 1: [("overdue", 1)], 4: [("overdue", 2)],
         7: [("escalation", 0), ("overdue", 3)], 10: [("overdue", 4)], 13: [("overdue", 5)], 16: [("overdue", 6)],
         19: [("overdue", 7)]}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _assert_tells_the_truth(message, kind: str, repetition: int, day: int, title: str) -> None:
    """The subject and body of a reminder sent `day` days after the due date (negative: before)."""
    text = f"{message.subject}\n{message.body}"
    assert DUE_TEXT in message.body  # every reminder names the due date
    assert message.subject.endswith(f" {title}")  # ": {title}"; the escalation's "… on {title}"
    if kind == "before_due":
        assert message.subject.startswith(f"Review due in {_plural(-day, 'day')}:")
        assert "overdue" not in text and "today" not in text
    elif kind == "due":
        assert message.subject.startswith("Review due today:")
        assert "overdue" not in text and " ago" not in text
    elif kind == "overdue":
        assert message.subject.startswith(f"Review {_plural(day, 'day')} overdue (reminder {repetition}):")
        assert f"{_plural(day, 'day')} ago" in message.body
        assert "due today" not in text
    else:
        assert message.subject.startswith("Overdue review escalated:")
        assert f"{_plural(day, 'day')} ago" in message.body


@pytest.fixture
def lone_assignment(assignment):
    """The fixture's assignment as the article's only open one (one reviewer told)."""
    ReviewAssignment.objects.exclude(pk=assignment.pk).update(status="completed")
    return assignment


@pytest.mark.parametrize("day", range(-10, 21))
def test_the_daily_run_sends_what_the_calendar_says(clock, lone_assignment, chief, day):
    """Run every day from ten days before the due date: on `day` exactly the reminders true that
    day go, each saying how early or late it is, with the due date."""
    for earlier in range(-10, day):
        on_day(clock, DUE_DAY + earlier)
    already = set(ReviewReminder.objects.filter(sent_at__isnull=False).values_list("pk", flat=True))
    outbox_before = len(mail.outbox)
    on_day(clock, DUE_DAY + day)
    today = sorted(ReviewReminder.objects.filter(sent_at__isnull=False).exclude(pk__in=already)
                   .values_list("kind", "repetition"))
    assert today == DAILY.get(day, [])
    messages = {("escalation" if m.to == [chief.email] else "reviewer"): m for m in mail.outbox[outbox_before:]}
    assert len(messages) == len(today)
    title = lone_assignment.article.title
    for kind, repetition in today:
        message = messages["escalation" if kind == "escalation" else "reviewer"]
        _assert_tells_the_truth(message, kind, repetition, day, title)
        [note] = Notification.objects.filter(subject=message.subject, recipient__email=message.to[0])
        assert note.body == message.body


def _latest_that_applies(day: int) -> list[tuple[str, int]]:
    """The calendar, written out: what a first run on `day` sends (default policy)."""
    if day < -7:
        return []
    if day < 0:
        return [("before_due", 0)]
    if day == 0:
        return [("due", 0)]
    reminder = [("overdue", (day - 1) // 3 + 1)]
    return sorted(reminder + ([("escalation", 0)] if day >= 7 else []))


@pytest.mark.parametrize("day", range(-10, 21))
def test_a_first_run_on_any_day_sends_the_latest_that_applies(clock, lone_assignment, day):
    """Missed reminders are not sent in a burst: a run on `day` with none sent before sends only
    what is true that day."""
    on_day(clock, DUE_DAY + day)
    sent_now = sorted(ReviewReminder.objects.filter(sent_at__isnull=False).values_list("kind", "repetition"))
    assert sent_now == _latest_that_applies(day)
    for message in mail.outbox:
        kind, repetition = next(item for item in sent_now if (item[0] == "escalation") ==
                                message.subject.startswith("Overdue review escalated"))
        _assert_tells_the_truth(message, kind, repetition, day, lone_assignment.article.title)


# --- a time zone far from UTC: the calendar day is the local one --------------------------------

AUCKLAND = ZoneInfo("Pacific/Auckland")


def _at_auckland(day: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=AUCKLAND)


@pytest.mark.parametrize(("when", "expected", "subject"), [
    # (local time of the run, what it sends, its subject's start); due 00:30 on 12 March, Auckland
    # (11:30 UTC on 11 March): the UTC date is a day behind at both edges.
    (_at_auckland(11, 23, 59, 59), [("before_due", 0)], "Review due in 1 day"),
    (_at_auckland(12, 0, 0, 1), [("due", 0)], "Review due today"),
    (_at_auckland(12, 23, 59, 59), [("due", 0)], "Review due today"),
    (_at_auckland(13, 0, 0, 1), [("overdue", 1)], "Review 1 day overdue (reminder 1)"),
    (_at_auckland(15, 23, 59, 59), [("overdue", 1)], "Review 3 days overdue (reminder 1)"),
    (_at_auckland(16, 0, 0, 1), [("overdue", 2)], "Review 4 days overdue (reminder 2)"),
])
def test_the_calendar_day_is_the_local_one(settings, make_article, drive, board, when, expected, subject):
    settings.TIME_ZONE = "Pacific/Auckland"
    with time_machine.travel(when - dt.timedelta(days=20), tick=False) as traveller:
        article = drive(make_article(), "in_review")
        ReviewAssignment.objects.filter(article=article).exclude(reviewer=board[0]).update(status="completed")
        ReviewAssignment.objects.filter(article=article).update(due_at=_at_auckland(12, 0, 30))
        traveller.move_to(when)
        reminders.send_review_reminders()
    assert sorted(ReviewReminder.objects.filter(sent_at__isnull=False).values_list("kind", "repetition")) == expected
    [message] = mail.outbox
    assert message.subject.startswith(f"{subject}:")
    assert "12 March 2026" in message.body


def test_the_daily_run_at_local_midnight_follows_the_local_calendar(settings, make_article, drive, board):
    """Runs a minute after each local midnight, Auckland: the same calendar as in UTC."""
    settings.TIME_ZONE = "Pacific/Auckland"
    with time_machine.travel(_at_auckland(1, 0, 1), tick=False) as traveller:
        article = drive(make_article(), "in_review")
        ReviewAssignment.objects.filter(article=article).exclude(reviewer=board[0]).update(status="completed")
        ReviewAssignment.objects.filter(article=article).update(due_at=_at_auckland(12, 0, 30))
        by_day = {}
        for day in range(2, 32):
            traveller.move_to(_at_auckland(day, 0, 1))
            before = len(mail.outbox)
            reminders.send_review_reminders()
            by_day[day - 12] = [m.subject.split(":")[0] for m in mail.outbox[before:]
                                if m.to == [board[0].user.email]]
    assert {day: subjects for day, subjects in by_day.items() if subjects} == {
        -7: ["Review due in 7 days"], 0: ["Review due today"], 1: ["Review 1 day overdue (reminder 1)"],
        4: ["Review 4 days overdue (reminder 2)"], 7: ["Review 7 days overdue (reminder 3)"],
        10: ["Review 10 days overdue (reminder 4)"], 13: ["Review 13 days overdue (reminder 5)"],
        16: ["Review 16 days overdue (reminder 6)"], 19: ["Review 19 days overdue (reminder 7)"]}


class BrokenBackend(BaseEmailBackend):
    """A mail server that refuses every message (opening the connection works, as with SMTP
    servers that accept the connection and then fail the delivery)."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_a_failed_send_is_retried_not_marked_sent(clock, assignment, settings):
    ReviewAssignment.objects.exclude(pk=assignment.pk).update(status="completed")
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    assert on_day(clock, 3) == 0
    row = ReviewReminder.objects.get()
    assert row.sent_at is None and row.attempts == 1 and "mail server down" in row.last_error
    assert not Notification.objects.exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert on_day(clock, 4) == 1
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""
    assert len(mail.outbox) == 1


@pytest.mark.postgres
def test_two_workers_at_once_send_each_reminder_once(live_db, writer, chief, board, make_article, drive):
    articles = [drive(make_article(title=f"Concurrent {i}"), "in_review") for i in range(3)]
    ReviewAssignment.objects.update(due_at=timezone.now() + dt.timedelta(days=3))
    assert ReviewAssignment.objects.count() == 6
    barrier = threading.Barrier(3)
    counts = []

    def worker():
        barrier.wait()
        try:
            counts.append(reminders.send_review_reminders())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 6
    assert len(mail.outbox) == 6
    assert ReviewReminder.objects.filter(sent_at__isnull=False).count() == 6
    assert len(articles) == 3


def test_the_statements_do_not_grow_with_the_number_of_reminders(clock, make_article, drive):
    """Batched: the run that sends 4 reminders and the one that sends 12 issue the same
    statements (one claim, one mark, one notifications INSERT per batch of SEND_BATCH)."""

    def articles_due_in_a_week(n: int, first: int) -> None:
        for i in range(n):
            drive(make_article(title=f"Batch article {first + i}"), "in_review")
        ReviewAssignment.objects.filter(status="open").update(due_at=START + dt.timedelta(days=10))

    def run() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            count = on_day(clock, 3)
        return count, len(queries)

    articles_due_in_a_week(2, 0)
    few, few_queries = run()
    articles_due_in_a_week(6, 2)
    many, many_queries = run()
    assert (few, many) == (4, 12)  # the first 4 are not sent again
    assert many_queries == few_queries
    assert ReviewReminder.objects.filter(sent_at__isnull=False).count() == 16
    assert Notification.objects.filter(kind="reminder").count() == 16
    assert len(mail.outbox) == 16


class SlowBackend(BaseEmailBackend):
    """A mail server that takes a minute per message (the test's clock is moved), and, once a
    claim could have run out, lets a second worker run the job in the middle of the batch."""

    clock = None
    armed = False
    second_run: list[int] = []

    def send_messages(self, messages):
        mail.outbox.extend(messages)
        SlowBackend.clock.shift(dt.timedelta(minutes=1))
        if SlowBackend.armed and timezone.now() > START + dt.timedelta(days=3, hours=1) + reminders.CLAIM_LEASE:
            SlowBackend.armed = False
            SlowBackend.second_run.append(reminders.send_review_reminders())  # another worker, lease expired
        return len(messages)


def test_a_batch_outlasting_its_lease_sends_nothing_twice_and_loses_nothing(clock, make_article, drive, settings):
    for i in range(6):
        drive(make_article(title=f"Slow article {i}"), "in_review")
    ReviewAssignment.objects.update(due_at=START + dt.timedelta(days=10))
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    SlowBackend.clock, SlowBackend.second_run, SlowBackend.armed = clock, [], True
    first = on_day(clock, 3)
    SlowBackend.armed = False
    assert 0 < first < 12  # stopped before its 5-minute lease ran out, the rest released
    assert ReviewReminder.objects.filter(sent_at__isnull=True, claimed_until__isnull=False).count() == 0
    total = first
    while count := reminders.send_review_reminders():  # the next runs send the rest
        total += count
    assert total == 12 and SlowBackend.second_run == []
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sorted({(m.to[0], m.subject) for m in mail.outbox})
    assert len(mail.outbox) == 12
    assert ReviewReminder.objects.filter(sent_at__isnull=False).count() == 12
    assert Notification.objects.filter(kind="reminder").count() == 12


class StolenClaimBackend(BaseEmailBackend):
    """Fails, after another worker has (by then) claimed the row: the failure must not free it."""

    def send_messages(self, messages):
        ReviewReminder.objects.update(claimed_until=START + dt.timedelta(days=30))
        raise ConnectionRefusedError("mail server down")


def test_a_release_does_not_clear_another_workers_claim(clock, assignment, settings):
    ReviewAssignment.objects.exclude(pk=assignment.pk).update(status="completed")
    settings.EMAIL_BACKEND = f"{__name__}.StolenClaimBackend"
    assert on_day(clock, 3) == 0
    row = ReviewReminder.objects.get()
    assert row.sent_at is None and row.claimed_until == START + dt.timedelta(days=30)


class StolenSendBackend(BaseEmailBackend):
    """Sends, but another worker holds the row by the time it is marked."""

    def send_messages(self, messages):
        mail.outbox.extend(messages)
        ReviewReminder.objects.update(claimed_until=START + dt.timedelta(days=30))
        return len(messages)


def test_a_send_is_marked_only_while_the_claim_is_held(clock, assignment, settings):
    ReviewAssignment.objects.exclude(pk=assignment.pk).update(status="completed")
    settings.EMAIL_BACKEND = f"{__name__}.StolenSendBackend"
    assert on_day(clock, 3) == 0
    row = ReviewReminder.objects.get()
    assert row.sent_at is None and row.claimed_until == START + dt.timedelta(days=30)
    assert not Notification.objects.exists()


def test_inactive_reviewers_are_not_reminded(clock, assignment, board):
    others = ReviewAssignment.objects.exclude(pk=assignment.pk)
    other = others.get()
    other.reviewer.user.is_active = False
    other.reviewer.user.save()
    board[0].is_active = False
    board[0].save()
    assert on_day(clock, 3) == 0
    assert mail.outbox == []
    board[0].is_active = True
    board[0].save()
    assert on_day(clock, 4) == 1
    assert [m.to for m in mail.outbox] == [[board[0].user.email]]
