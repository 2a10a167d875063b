"""Publication: a frozen PublishedSnapshot, scheduled publication, withdrawal with a reason,
review due dates from the policy, and the "reviewed, no changes" re-review."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from articles.models import ArticleState, PublishedSnapshot
from governance.models import AuditEvent, ChangeEvent
from governance.workflow import services
from governance.workflow.exceptions import TransitionRefused
from reviewers.models import BoardMember
from tests.factories import PASSWORD, ReviewPolicyFactory

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def approve_all(assignments):
    for a in assignments:
        services.review_record(assignment=a, actor=a.reviewer.user, decision="approve", password=PASSWORD)


# --- publish -------------------------------------------------------------------------------------

def test_it_freezes_the_approved_revision_into_a_snapshot(make_article, drive, chief):
    article = drive(make_article(), "approved")

    article = services.article_publish(article=article, actor=chief)

    snapshot = PublishedSnapshot.objects.get(article=article)
    assert article.live_snapshot_id == snapshot.pk
    assert snapshot.revision_id == article.current_revision_id
    assert snapshot.published_by == chief
    assert snapshot.etag
    assert article.first_published_at == snapshot.published_at
    assert list(ChangeEvent.objects.values_list("type", flat=True)) == ["published"]


def test_it_refuses_to_publish_a_revision_citing_a_retracted_reference(make_article, drive, chief):
    article = drive(make_article(), "approved")
    reference = article.current_revision.citations.first().reference
    reference.retraction_status = "retracted"
    reference.save()

    with pytest.raises(TransitionRefused) as refused:
        services.article_publish(article=article, actor=chief)

    assert refused.value.rule == "no_retracted_citations"
    assert not PublishedSnapshot.objects.exists()


# --- schedule ------------------------------------------------------------------------------------

def test_it_schedules_and_publishes_when_due(make_article, drive, chief):
    with time_machine.travel(NOON, tick=False):
        article = drive(make_article(), "approved")
        publish_at = NOON + dt.timedelta(days=1)
        article = services.article_schedule(article=article, actor=chief, publish_at=publish_at)
        assert (article.state, article.publish_at) == (ArticleState.SCHEDULED, publish_at)

        assert services.publish_scheduled_due(now=NOON + dt.timedelta(hours=23)) == []
        article.refresh_from_db()
        assert article.state == ArticleState.SCHEDULED
        assert not PublishedSnapshot.objects.exists()

    with time_machine.travel(publish_at + dt.timedelta(minutes=1), tick=False):
        assert services.publish_scheduled_due() == [article.slug]

    article.refresh_from_db()
    assert article.state == ArticleState.PUBLISHED
    assert article.publish_at is None
    assert article.live_snapshot.published_at == publish_at + dt.timedelta(minutes=1)
    event = AuditEvent.objects.get(action="article.publish")
    assert (event.actor_username, event.from_state, event.reason) == ("system", "scheduled", "scheduled publication")


def test_it_publishes_a_due_article_only_once(make_article, drive, chief):
    article = drive(make_article(), "approved")
    services.article_schedule(article=article, actor=chief, publish_at=timezone.now() + dt.timedelta(hours=1))
    later = timezone.now() + dt.timedelta(hours=2)

    assert services.publish_scheduled_due(now=later) == [article.slug]
    assert services.publish_scheduled_due(now=later) == []
    assert PublishedSnapshot.objects.count() == 1


@pytest.mark.parametrize("publish_at", [None, "past"])
def test_it_refuses_a_schedule_without_a_future_time(make_article, drive, chief, publish_at):
    article = drive(make_article(), "approved")
    when = timezone.now() - dt.timedelta(minutes=1) if publish_at == "past" else None

    with pytest.raises(TransitionRefused) as refused:
        services.article_schedule(article=article, actor=chief, publish_at=when)

    assert refused.value.rule == "publish_at_in_future"
    article.refresh_from_db()
    assert article.state == ArticleState.APPROVED


# --- withdraw ------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["", "   "])
def test_it_refuses_to_withdraw_without_a_reason(make_article, drive, chief, reason):
    article = drive(make_article(), "published")

    with pytest.raises(TransitionRefused) as refused:
        services.article_withdraw(article=article, actor=chief, reason=reason)

    assert refused.value.rule == "reason_required"
    article.refresh_from_db()
    assert article.live_snapshot_id is not None


def test_it_withdraws_with_a_reason(make_article, drive, chief):
    article = drive(make_article(), "published")

    article = services.article_withdraw(article=article, actor=chief, reason="Guidance superseded")

    assert article.state == ArticleState.WITHDRAWN
    assert article.live_snapshot_id is None
    assert article.withdrawn_reason == "Guidance superseded"
    event = AuditEvent.objects.get(action="article.withdraw")
    assert (event.from_state, event.to_state, event.reason) == ("published", "withdrawn", "Guidance superseded")
    assert list(ChangeEvent.objects.values_list("type", flat=True)) == ["published", "withdrawn"]


def test_it_withdraws_the_live_text_of_an_article_being_revised(make_article, drive, chief, writer):
    from tests.conftest import article_content

    article = drive(make_article(), "published")
    article = services.article_edit(article=article, actor=writer, content=article_content(summary="New."))

    article = services.article_withdraw(article=article, actor=chief, reason="Unsafe advice")

    assert (article.state, article.live_snapshot_id) == (ArticleState.WITHDRAWN, None)


# --- due dates -----------------------------------------------------------------------------------

def test_it_sets_the_assignment_due_date_from_the_policy(make_article, drive, chief, board, topic):
    ReviewPolicyFactory(topic=topic, assignment_due_days=5)
    with time_machine.travel(NOON, tick=False):
        article = drive(make_article(), "submitted")
        assignment = services.assignment_create(article=article, actor=chief, reviewer=board[0])

    assert assignment.due_at == NOON + dt.timedelta(days=5)


def test_it_defaults_the_assignment_due_date_to_fourteen_days(make_article, drive, chief, board):
    with time_machine.travel(NOON, tick=False):
        article = drive(make_article(), "submitted")
        assignment = services.assignment_create(article=article, actor=chief, reviewer=board[0])

    assert assignment.due_at == NOON + dt.timedelta(days=14)


def test_it_keeps_an_explicit_assignment_due_date(make_article, drive, chief, board):
    with time_machine.travel(NOON, tick=False):
        article = drive(make_article(), "submitted")
        due = NOON + dt.timedelta(days=3)
        assert services.assignment_create(article=article, actor=chief, reviewer=board[0], due_at=due).due_at == due


def test_it_refuses_an_assignment_due_in_the_past(make_article, drive, chief, board):
    from governance.workflow.exceptions import ContentInvalid

    article = drive(make_article(), "submitted")

    with pytest.raises(ContentInvalid) as invalid:
        services.assignment_create(article=article, actor=chief, reviewer=board[0],
                                   due_at=timezone.now() - dt.timedelta(days=1))

    assert list(invalid.value.errors) == ["due_at"]


@pytest.mark.parametrize(("risk_tier", "days"), [("standard", 365), ("high", 180)])
def test_it_sets_the_next_review_from_the_approval_date(make_article, drive, risk_tier, days):
    with time_machine.travel(NOON, tick=False):
        article = drive(make_article(risk_tier=risk_tier), "approved")

    assert article.last_reviewed_at == NOON
    assert article.next_review_due == NOON.date() + dt.timedelta(days=days)


def test_it_takes_the_review_interval_from_the_topic_policy(make_article, drive, topic):
    ReviewPolicyFactory(topic=topic, risk_tier="high", review_interval_days=90)
    with time_machine.travel(NOON, tick=False):
        article = drive(make_article(risk_tier="high"), "approved")

    assert article.next_review_due == NOON.date() + dt.timedelta(days=90)


# --- re-review: "reviewed, no changes" -----------------------------------------------------------

def test_it_re_approves_the_same_revision_on_re_review(make_article, drive, chief, board):
    with time_machine.travel(NOON, tick=False):
        article = drive(make_article(), "review_due")
    revision = article.current_revision
    first_snapshot = article.live_snapshot
    later = NOON + dt.timedelta(days=370)

    with time_machine.travel(later, tick=False):
        assignments = list(article.assignments.filter(status="open"))  # the approvers', asked by the flag
        assert {a.reviewer_id for a in assignments} == {board[0].pk, board[1].pk}
        article = services.article_start_review(article=article, actor=chief)
        assert article.live_snapshot_id == first_snapshot.pk  # still served while under review
        approve_all(assignments)
        article.refresh_from_db()
        assert article.state == ArticleState.APPROVED
        article = services.article_publish(article=article, actor=chief)

    assert article.state == ArticleState.PUBLISHED
    assert article.current_revision_id == revision.pk
    assert article.revisions.count() == 1
    assert article.last_reviewed_at == later
    assert article.next_review_due == later.date() + dt.timedelta(days=365)
    re_signed = article.reviews.filter(signed_at=later)
    assert {r.revision_hash for r in re_signed} == {revision.content_hash}
    assert re_signed.count() == 2
    assert article.live_snapshot_id != first_snapshot.pk
    assert article.live_snapshot.revision_id == revision.pk
    assert list(ChangeEvent.objects.values_list("type", flat=True)) == ["published", "review_due", "updated"]


def test_it_refuses_to_re_review_without_eligible_assignments(make_article, drive, chief, board):
    article = drive(make_article(), "published")
    BoardMember.objects.filter(pk__in=[board[0].pk, board[1].pk]).update(is_active=False)  # its approvers left
    services.bulk.flag_articles([article.pk], reason="review interval elapsed")
    article.refresh_from_db()
    assert article.state == ArticleState.REVIEW_DUE and not article.assignments.filter(status="open").exists()

    with pytest.raises(TransitionRefused) as refused:
        services.article_start_review(article=article, actor=chief)

    assert refused.value.rule == "assignments_reach_quorum"


def test_it_flags_only_published_articles_for_review(make_article, drive):
    article = drive(make_article(), "approved")

    assert services.bulk.flag_articles([article.pk], reason="interval elapsed").flagged == []
    article.refresh_from_db()
    assert article.state == ArticleState.APPROVED


def test_it_leaves_a_due_article_scheduled_when_a_rule_refuses_and_audits_that_once(make_article, drive, chief):
    article = drive(make_article(), "approved")
    services.article_schedule(article=article, actor=chief, publish_at=timezone.now() + dt.timedelta(hours=1))
    reference = article.current_revision.citations.first().reference
    reference.retraction_status = "retracted"
    reference.save()
    later = timezone.now() + dt.timedelta(hours=2)

    assert services.publish_scheduled_due(now=later) == []
    assert services.publish_scheduled_due(now=later + dt.timedelta(minutes=1)) == []

    article.refresh_from_db()
    assert article.state == ArticleState.SCHEDULED
    assert not PublishedSnapshot.objects.exists()
    failed = AuditEvent.objects.get(action="article.schedule_failed")
    assert failed.data == {"rule": "no_retracted_citations"}


@pytest.mark.parametrize("how", ["withdraw", "archive"])
def test_it_takes_a_withdrawn_or_archived_article_off_reviewers_queues(make_article, drive, chief, writer, board, how):
    from governance.workflow import selectors
    from tests.conftest import article_content

    article = drive(make_article(), "published")
    article = services.article_edit(article=article, actor=writer, content=article_content(summary="Update."))
    article = services.article_submit(article=article, actor=writer)
    services.assignment_create(article=article, actor=chief, reviewer=board[2])
    assert selectors.review_queue(board[2]).count() == 1

    getattr(services, f"article_{how}")(article=article, actor=chief, reason="Taken down")

    assert selectors.review_queue(board[2]).count() == 0
    assert article.assignments.filter(status="cancelled").count() == 1


def test_it_keeps_the_snapshot_frozen_when_its_sources_change(make_article, drive):
    article = drive(make_article(), "published")
    snapshot = article.live_snapshot
    frozen = (dict(snapshot.document), snapshot.etag)
    reference = article.current_revision.citations.get(number=1).reference
    reference.title = "Retitled after publication"
    reference.save()
    member = article.reviews.first().reviewer
    member.printed_name = "Someone Else"
    member.save()

    snapshot.refresh_from_db()
    assert (snapshot.document, snapshot.etag) == frozen
    assert snapshot.document["references"][0]["title"] == "SGLT2 inhibitors in heart failure"
