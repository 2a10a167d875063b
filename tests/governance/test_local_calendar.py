"""The calendar is the local one: every date rule runs under UTC and Pacific/Auckland, half a
minute after local midnight and half a minute before the next (the `local_day` fixture), and is
checked on its boundary days exactly: due today / due yesterday, a licence expiring today, day 30
of a 30-day grace period, the currency report's +0/+30/+31/+60/+61/+90/+91 days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from articles.models import Article
from governance.background import reminders, staleness
from governance.models import ReviewPolicy, ReviewReminder
from governance.reports import currency
from governance.workflow import rules, selectors
from reviewers.models import ReviewAssignment
from tests import factories

DAY = dt.timedelta(days=1)


def _review_due_on(article, date: dt.date) -> None:
    Article.objects.filter(pk=article.pk).update(next_review_due=date)


def test_the_review_falls_due_the_day_after_its_date(local_day, make_article, drive):
    due_today = drive(make_article(title="Due today"), "published")
    due_yesterday = drive(make_article(title="Due yesterday"), "published")
    _review_due_on(due_today, local_day)
    _review_due_on(due_yesterday, local_day - DAY)

    assert staleness.flag_stale_articles().flagged == [due_yesterday.slug]
    assert Article.objects.get(pk=due_today.pk).state == "published"


def test_the_grace_period_ends_after_its_last_day(local_day, make_article, drive):
    ReviewPolicy.objects.create(topic=None, risk_tier="standard", unpublish_grace_days=30)
    day_30 = drive(make_article(title="Day 30 of 30"), "published")
    day_31 = drive(make_article(title="Day 31"), "published")
    _review_due_on(day_30, local_day - 30 * DAY)
    _review_due_on(day_31, local_day - 31 * DAY)

    result = staleness.flag_stale_articles()

    assert sorted(result.flagged) == sorted([day_30.slug, day_31.slug])
    assert result.unpublished == [day_31.slug]
    assert Article.objects.get(pk=day_30.pk).live_snapshot_id is not None


def test_a_licence_is_valid_through_its_expiry_day(local_day, make_article):
    article = make_article()
    today = factories.BoardMemberFactory(licence_expires_on=local_day)
    yesterday = factories.BoardMemberFactory(licence_expires_on=local_day - DAY)

    assert today.licence_valid() and not yesterday.licence_valid()
    assert rules.reviewer_refusal(today, article) is None
    assert rules.reviewer_refusal(yesterday, article).rule == "licence_valid"


def test_a_conflict_blocks_from_its_first_day_through_its_last(local_day, make_article, topic):
    article = make_article()
    starts_today, ends_today, ended_yesterday, starts_tomorrow = (factories.BoardMemberFactory() for _ in range(4))
    factories.ConflictFactory(member=starts_today, topic=topic, starts_on=local_day)
    factories.ConflictFactory(member=ends_today, topic=topic, starts_on=local_day - 9 * DAY, ends_on=local_day)
    factories.ConflictFactory(member=ended_yesterday, topic=topic, starts_on=local_day - 9 * DAY,
                              ends_on=local_day - DAY)
    factories.ConflictFactory(member=starts_tomorrow, topic=topic, starts_on=local_day + DAY)

    assert rules.reviewer_refusal(starts_today, article).rule == "no_conflict_of_interest"
    assert rules.reviewer_refusal(ends_today, article).rule == "no_conflict_of_interest"
    assert rules.reviewer_refusal(ended_yesterday, article) is None
    assert rules.reviewer_refusal(starts_tomorrow, article) is None


def test_the_next_review_is_due_the_interval_after_the_local_approval_day(local_day, make_article, drive):
    article = drive(make_article(), "approved")
    interval = selectors.policy_for(article).review_interval_days
    assert article.next_review_due == local_day + dt.timedelta(days=interval)


def test_the_currency_report_buckets_by_local_day(local_day, make_article, drive):
    article = drive(make_article(), "published")
    expected = {-1: "overdue", 0: "due_30", 30: "due_30", 31: "due_60", 60: "due_60", 61: "due_90", 90: "due_90",
                91: "later"}
    for offset, bucket in expected.items():
        _review_due_on(article, local_day + dt.timedelta(days=offset))
        total = currency.content_currency()["total"]
        assert [name for name in currency.BUCKETS if total[name]] == [bucket], offset
        assert total["within"] == (0 if bucket == "overdue" else 1), offset
        assert [a["slug"] for a in currency.currency_articles(bucket=bucket)] == [article.slug], offset


@pytest.mark.parametrize(("due", "kind", "repetition"), [
    (dt.time(0, 0, 1), "due", 0),  # due at the start of today
    (dt.time(23, 59, 59), "due", 0),  # due at its end
    (None, "overdue", 1),  # due yesterday (noon)
])
def test_a_reminder_says_due_on_the_local_due_day_and_overdue_after(local_day, make_article, drive, board,
                                                                       due, kind, repetition):
    article = drive(make_article(), "in_review")
    ReviewAssignment.objects.filter(article=article).exclude(reviewer=board[0]).update(status="completed")
    zone = timezone.get_current_timezone()
    due_at = (dt.datetime.combine(local_day, due, tzinfo=zone) if due is not None
              else dt.datetime.combine(local_day - DAY, dt.time(12), tzinfo=zone))
    ReviewAssignment.objects.filter(article=article).update(due_at=due_at)

    assert reminders.send_review_reminders() == 1
    assert list(ReviewReminder.objects.filter(sent_at__isnull=False).values_list("kind", "repetition")) == [
        (kind, repetition)]
