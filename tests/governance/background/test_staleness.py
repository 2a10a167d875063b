"""flag_stale_articles: published articles past their review date move to review_due, in bulk."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article
from governance.background import notifications, staleness
from governance.models import AuditEvent, ChangeEvent, Notification, ReviewPolicy, WebhookDelivery, WebhookEndpoint
from governance.workflow import audit
from reviewers.models import ReviewAssignment
from tests import factories


def make_overdue(article, days: int = 1):
    Article.objects.filter(pk=article.pk).update(next_review_due=timezone.localdate() - dt.timedelta(days=days))


@pytest.fixture
def published(make_article, drive):
    def make(n: int = 1, overdue_days: int = 1):
        articles = [drive(make_article(title=f"Heart failure, part {i}"), "published") for i in range(n)]
        for article in articles:
            make_overdue(article, overdue_days)
        return articles

    return make


def test_it_flags_an_overdue_article_and_asks_its_reviewers_to_re_review(published, board, settings):
    WebhookEndpoint.objects.create(name="site", url="https://example.org/hook", secret="whsec_QUJDREVGR0g=")
    [article] = published()

    result = staleness.flag_stale_articles()

    article.refresh_from_db()
    assert result.flagged == [article.slug]
    assert article.state == "review_due"
    assert article.live_snapshot_id is not None  # still served (review_status: review_overdue)
    event = AuditEvent.objects.filter(action="article.flag_review_due").get()
    assert (event.from_state, event.to_state, event.reason) == ("published", "review_due", "review interval elapsed")
    assert event.actor_username == "system"
    assert ChangeEvent.objects.filter(type="review_due", slug=article.slug).count() == 1
    assert WebhookDelivery.objects.filter(event_type="article.review_due").count() == 1
    asked = ReviewAssignment.objects.filter(article=article, status="open")
    assert sorted(a.reviewer_id for a in asked) == sorted(m.pk for m in board[:2])
    assert {n.recipient_id for n in Notification.objects.filter(kind="review_requested")} == {
        m.user_id for m in board[:2]}
    assert AuditEvent.objects.filter(action="assignment.create", reason__startswith="re-review requested").count() == 2
    assert audit.verify().ok

    assert notifications.send_pending_emails() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.user.email for m in board[:2])
    assert "review interval elapsed" in mail.outbox[0].body


def test_it_leaves_articles_within_their_interval_and_unpublished_ones_alone(published, make_article):
    [fresh] = published(overdue_days=-3)  # due in three days
    draft = make_article(title="A draft")
    make_overdue(draft)
    assert staleness.flag_stale_articles().flagged == []
    assert Article.objects.get(pk=fresh.pk).state == "published"
    assert Article.objects.get(pk=draft.pk).state == "draft"


def test_it_is_idempotent(published):
    published(2)
    assert len(staleness.flag_stale_articles().flagged) == 2
    counts = (AuditEvent.objects.count(), ChangeEvent.objects.count(), ReviewAssignment.objects.count(),
              Notification.objects.count())
    again = staleness.flag_stale_articles()
    assert again.flagged == [] and again.re_review_requests == 0
    assert counts == (AuditEvent.objects.count(), ChangeEvent.objects.count(), ReviewAssignment.objects.count(),
                      Notification.objects.count())


def test_it_runs_a_constant_number_of_queries_however_many_articles(published):
    def queries_for(n: int) -> int:
        published(n)
        with CaptureQueriesContext(connection) as ctx:
            assert len(staleness.flag_stale_articles().flagged) == n
        if connection.vendor == "postgresql":  # the bulk writes (COPY) are counted too
            assert sum(q["sql"].startswith("COPY") for q in ctx.captured_queries) >= 4
        return len(ctx.captured_queries)

    assert queries_for(1) == queries_for(5)


def test_it_does_not_ask_a_reviewer_who_may_no_longer_review(published, board, topic):
    [article] = published()
    factories.ConflictFactory(member=board[0], topic=topic)
    staleness.flag_stale_articles()
    assert list(ReviewAssignment.objects.filter(article=article, status="open").values_list("reviewer", flat=True)) == [
        board[1].pk]


def test_it_unpublishes_after_the_policys_grace_period(published):
    ReviewPolicy.objects.create(topic=None, risk_tier="standard", unpublish_grace_days=30)
    [within, past] = published(2)
    make_overdue(within, 10)
    make_overdue(past, 31)

    result = staleness.flag_stale_articles()

    assert sorted(result.flagged) == sorted([within.slug, past.slug])
    assert result.unpublished == [past.slug]
    within.refresh_from_db()
    past.refresh_from_db()
    assert within.state == "review_due" and within.live_snapshot_id is not None
    assert past.state == "withdrawn" and past.live_snapshot_id is None
    assert ChangeEvent.objects.filter(slug=past.slug).last().type == "withdrawn"  # tombstone in the feed
    withdraw = AuditEvent.objects.get(action="article.withdraw", article_id=past.pk)
    assert "grace period of 30 days" in withdraw.reason
    assert staleness.flag_stale_articles().unpublished == []
    assert audit.verify().ok


def test_a_topic_policy_without_grace_overrides_the_default_one(published, topic):
    ReviewPolicy.objects.create(topic=None, risk_tier="standard", unpublish_grace_days=5)
    ReviewPolicy.objects.create(topic=topic, risk_tier="standard", unpublish_grace_days=None)
    [article] = published(overdue_days=40)
    assert staleness.flag_stale_articles().unpublished == []
    assert Article.objects.get(pk=article.pk).state == "review_due"


@pytest.mark.postgres
def test_two_workers_at_once_flag_each_article_once(live_db, writer, chief, board, make_article, drive):
    articles = [drive(make_article(title=f"Concurrent {i}"), "published") for i in range(6)]
    for article in articles:
        make_overdue(article)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        try:
            results.append(staleness.flag_stale_articles())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(slug for r in results for slug in r.flagged) == sorted(a.slug for a in articles)
    assert AuditEvent.objects.filter(action="article.flag_review_due").count() == 6
    assert ChangeEvent.objects.filter(type="review_due").count() == 6
    assert ReviewAssignment.objects.filter(status="open").count() == 12
    assert audit.verify().ok


@pytest.mark.postgres
def test_a_large_sweep_refreshes_the_planners_statistics(live_db, writer, chief, board, make_article, drive,
                                                        monkeypatch):
    monkeypatch.setattr(staleness, "ANALYZE_AFTER", 2)
    articles = [drive(make_article(title=f"Analyzed {i}"), "published") for i in range(2)]
    for article in articles:
        make_overdue(article)
    tables = [m._meta.db_table for m in staleness.ANALYZED_AFTER_A_SWEEP]

    def analyzed() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT relname, analyze_count FROM pg_stat_user_tables WHERE relname = ANY(%s)", [tables])
            return dict(cursor.fetchall())

    before = analyzed()
    assert len(staleness.flag_stale_articles().flagged) == 2
    after = analyzed()

    assert all(after[table] == before.get(table, 0) + 1 for table in tables), (before, after)


def test_the_grace_period_unpublish_runs_a_constant_number_of_queries(published):
    ReviewPolicy.objects.create(topic=None, risk_tier="standard", unpublish_grace_days=30)

    def queries_for(n: int) -> int:
        articles = published(n, overdue_days=31)
        with CaptureQueriesContext(connection) as ctx:
            assert sorted(staleness.flag_stale_articles().unpublished) == sorted(a.slug for a in articles)
        return len(ctx.captured_queries)

    assert queries_for(1) == queries_for(4)
    assert Article.objects.filter(state="withdrawn", live_snapshot__isnull=True).count() == 5
    assert ChangeEvent.objects.filter(type="withdrawn").count() == 5
    assert AuditEvent.objects.filter(action="article.withdraw", actor_username="system").count() == 5
    assert audit.verify().ok


def test_the_grace_period_unpublish_does_what_withdrawing_one_by_one_does(make_article, drive, board):
    from articles.models import PublishedSnapshot
    from reviewers.models import ReviewCycle

    WebhookEndpoint.objects.create(name="site", url="https://example.org/hook", secret="whsec_QUJDREVGR0g=")
    ReviewPolicy.objects.create(topic=None, risk_tier="standard", unpublish_grace_days=30)
    gone = drive(make_article(title="Heart failure medicines"), "published")
    linking = make_article(title="Living with heart failure")
    linking.related.add(gone)
    linking = drive(linking, "published")
    assert [r["slug"] for r in PublishedSnapshot.objects.get(pk=linking.live_snapshot_id).document["related"]] == [
        gone.slug]
    make_overdue(gone, 31)
    staleness.flag_stale_articles()  # flagged (re-review assignments opened), then past grace: withdrawn

    gone.refresh_from_db()
    assert gone.state == "withdrawn" and gone.live_snapshot_id is None and gone.withdrawn_at is not None
    assert "grace period of 30 days" in gone.withdrawn_reason
    assert not ReviewAssignment.objects.filter(article=gone, status="open").exists()
    assert ReviewAssignment.objects.filter(article=gone, status="cancelled").count() == 2
    assert not ReviewCycle.objects.filter(article=gone, closed_at__isnull=True).exists()
    assert PublishedSnapshot.objects.get(pk=linking.live_snapshot_id).document["related"] == []
    tombstone = ChangeEvent.objects.filter(slug=gone.slug).last()
    assert tombstone.type == "withdrawn" and tombstone.revision
    assert WebhookDelivery.objects.filter(event_type="article.withdrawn", payload__data__slug=gone.slug).exists()
    assert Article.objects.get(pk=linking.pk).state == "published"
    assert audit.verify().ok


# --- who is asked to re-review: the approvers of the live text who may still review it ----------
# Each exclusion of rules.reviewer_refusal, through the public job (whatever computes it inside).

def _asked(article) -> list[int]:
    return sorted(ReviewAssignment.objects.filter(article=article, status="open").values_list("reviewer", flat=True))


def _wrote_a_revision(member, article) -> None:
    """`member` wrote a revision of the article (an older one, say, before they joined the board):
    a row of the article's history, as the editor would have saved it."""
    from articles.models import Revision

    live = Revision.objects.get(pk=article.current_revision_id)
    Revision.objects.create(article=article, number=live.number + 1, title=live.title, summary=live.summary,
                            body_markdown=live.body_markdown, body_html=live.body_html, origin=live.origin,
                            content_hash=live.content_hash, created_by=member.user)


def _inactive(member, article, today):
    member.is_active = False
    member.save()


def _licence_expired_yesterday(member, article, today):
    member.licence_expires_on = today - dt.timedelta(days=1)
    member.save()


def _unverified(member, article, today):
    member.credentials_verified_at, member.credentials_verified_by = None, None
    member.save()


def _conflicted(member, article, today):
    factories.ConflictFactory(member=member, topic=article.topic, starts_on=today)


def _created_the_article(member, article, today):
    Article.objects.filter(pk=article.pk).update(created_by=member.user)


def _wrote_a_revision_of_it(member, article, today):
    _wrote_a_revision(member, article)


@pytest.mark.parametrize("make_ineligible", [_inactive, _licence_expired_yesterday, _unverified, _conflicted,
                                             _created_the_article, _wrote_a_revision_of_it])
def test_it_asks_no_approver_who_may_no_longer_review(published, board, make_ineligible):
    [article] = published()
    make_ineligible(board[0], article, timezone.localdate())

    result = staleness.flag_stale_articles()

    assert result.flagged == [article.slug]
    assert _asked(article) == [board[1].pk]  # the other approver still is
    assert result.re_review_requests == 1
    assert [n.recipient_id for n in Notification.objects.filter(kind="review_requested")] == [board[1].user_id]


def _licence_expires_today(member, article, today):
    member.licence_expires_on = today
    member.save()


def _conflict_ended_yesterday(member, article, today):
    factories.ConflictFactory(member=member, topic=article.topic, starts_on=today - dt.timedelta(days=30),
                              ends_on=today - dt.timedelta(days=1))


def _conflict_on_another_topic(member, article, today):
    factories.ConflictFactory(member=member, topic=factories.TopicFactory(slug="diabetes"), starts_on=today)


def _conflict_starting_tomorrow(member, article, today):
    factories.ConflictFactory(member=member, topic=article.topic, starts_on=today + dt.timedelta(days=1))


def _declared_no_interest(member, article, today):
    factories.ConflictFactory(member=member, topic=article.topic, nature="none", starts_on=today)


@pytest.mark.parametrize("keep_eligible", [_licence_expires_today, _conflict_ended_yesterday,
                                           _conflict_on_another_topic, _conflict_starting_tomorrow,
                                           _declared_no_interest])
def test_it_asks_an_approver_still_eligible_on_the_boundary(published, board, keep_eligible):
    [article] = published()
    keep_eligible(board[0], article, timezone.localdate())

    result = staleness.flag_stale_articles()

    assert _asked(article) == sorted(m.pk for m in board[:2])
    assert result.re_review_requests == 2


def test_it_asks_nobody_who_did_not_approve_the_live_text(published, board):
    [article] = published()  # approved by board[0] and board[1]; board[2] never reviewed it
    staleness.flag_stale_articles()
    assert board[2].pk not in _asked(article)

