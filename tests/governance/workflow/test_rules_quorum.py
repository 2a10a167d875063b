"""Quorum: the approvals a policy requires, one more for AI-assisted or AI-generated drafts, and
the specialties that must be among the approvers."""

from __future__ import annotations

import pytest

from articles.models import ArticleState
from governance.models import AuditEvent
from governance.workflow import selectors, services
from governance.workflow.exceptions import TransitionRefused
from reviewers.models import Review
from tests.factories import PASSWORD, BoardMemberFactory, ReviewPolicyFactory, SpecialtyFactory


def assign(article, chief, members):
    return [services.assignment_create(article=article, actor=chief, reviewer=m) for m in members]


def sign(assignment, decision="approve", comments=""):
    return services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision=decision,
                                  password=PASSWORD, comments=comments)


def state_of(article) -> str:
    article.refresh_from_db()
    return article.state


def test_it_requires_two_approvals_by_default(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")
    first, second = assign(article, chief, board[:2])
    services.article_start_review(article=article, actor=chief)

    sign(first)
    assert state_of(article) == ArticleState.IN_REVIEW

    sign(second)
    assert state_of(article) == ArticleState.APPROVED
    assert selectors.policy_for(article).approvals_required == 2


def test_it_refuses_to_start_review_with_fewer_assignments_than_the_quorum(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")
    assign(article, chief, board[:1])

    with pytest.raises(TransitionRefused) as refused:
        services.article_start_review(article=article, actor=chief)

    assert refused.value.rule == "assignments_reach_quorum"
    assert "1 of 2" in refused.value.message


@pytest.mark.parametrize("origin", ["ai_assisted", "ai_generated"])
def test_it_requires_one_more_approval_for_ai_drafts(make_article, drive, chief, board, origin):
    article = drive(make_article(origin=origin), "submitted")
    assignments = assign(article, chief, board[:3])
    services.article_start_review(article=article, actor=chief)

    sign(assignments[0])
    sign(assignments[1])
    assert state_of(article) == ArticleState.IN_REVIEW

    sign(assignments[2])
    assert state_of(article) == ArticleState.APPROVED


@pytest.mark.parametrize("origin", ["ai_assisted", "ai_generated"])
def test_it_refuses_to_start_review_of_an_ai_draft_with_two_reviewers(make_article, drive, chief, board, origin):
    article = drive(make_article(origin=origin), "submitted")
    assign(article, chief, board[:2])

    with pytest.raises(TransitionRefused) as refused:
        services.article_start_review(article=article, actor=chief)

    assert refused.value.rule == "assignments_reach_quorum"


def test_it_takes_the_quorum_from_the_topic_policy(make_article, drive, chief, board, topic):
    ReviewPolicyFactory(topic=topic, approvals_required=1)
    article = drive(make_article(), "submitted")
    (only,) = assign(article, chief, board[:1])
    services.article_start_review(article=article, actor=chief)

    sign(only)

    assert state_of(article) == ArticleState.APPROVED


@pytest.fixture
def cardiology_required(topic):
    cardiology = SpecialtyFactory(slug="cardiology", name="Cardiology")
    policy = ReviewPolicyFactory(topic=topic, approvals_required=2)
    policy.required_specialties.add(cardiology)
    return policy


@pytest.fixture
def generalists():
    general = SpecialtyFactory(slug="general-practice", name="General practice")
    return [BoardMemberFactory(specialties=[general]) for _ in range(2)]


def test_it_refuses_to_start_review_when_no_reviewer_covers_a_required_specialty(
        make_article, drive, chief, cardiology_required, generalists):
    article = drive(make_article(), "submitted")
    assign(article, chief, generalists)

    with pytest.raises(TransitionRefused) as refused:
        services.article_start_review(article=article, actor=chief)

    assert refused.value.rule == "assignments_cover_specialties"
    assert "Cardiology" in refused.value.message


def test_it_waits_for_the_required_specialty_among_the_approvers(
        make_article, drive, chief, board, cardiology_required, generalists):
    article = drive(make_article(), "submitted")
    cardiologist = board[0]
    a_general, b_general, a_cardio = assign(article, chief, [*generalists, cardiologist])
    services.article_start_review(article=article, actor=chief)

    sign(a_general)
    sign(b_general)  # two approvals: the number is met, the specialty is not
    assert state_of(article) == ArticleState.IN_REVIEW

    sign(a_cardio)
    assert state_of(article) == ArticleState.APPROVED


def test_it_names_the_missing_specialty_in_the_approval_checklist(
        make_article, drive, chief, board, cardiology_required, generalists):
    from governance.workflow import rules

    article = drive(make_article(), "submitted")
    a_general, b_general, _ = assign(article, chief, [*generalists, board[0]])
    services.article_start_review(article=article, actor=chief)
    sign(a_general)
    sign(b_general)
    article.refresh_from_db()

    results = {r.rule: r for r in rules.checklist(article, "approve")}
    assert results["quorum_met"].ok
    assert not results["required_specialties_approved"].ok
    assert "Cardiology" in results["required_specialties_approved"].message


def test_a_request_for_changes_after_an_approval_sends_the_article_back(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")
    first, second, _third = assign(article, chief, board[:3])
    services.article_start_review(article=article, actor=chief)

    sign(first)
    sign(second, decision="request_changes", comments="The dose in paragraph 2 is wrong.")

    assert state_of(article) == ArticleState.DRAFT
    assert article.review_cycles.get().outcome == "changes_requested"
    assert not AuditEvent.objects.filter(action="article.approve").exists()


def test_it_counts_only_the_cycles_unvoided_approvals_towards_the_quorum(make_article, drive, chief, board):
    from django.utils import timezone

    from governance.workflow import rules

    article = drive(make_article(), "submitted")
    first, second, third = assign(article, chief, board[:3])
    services.article_start_review(article=article, actor=chief)
    approval = sign(first)
    # A request for changes signed in the same cycle (its row, as a second reviewer's decision
    # recorded before the first's closed the cycle would be): not an approval.
    Review.objects.create(
        cycle=approval.cycle, assignment=second, article=approval.article, revision=approval.revision,
        reviewer=second.reviewer, decision=Review.Decision.CHANGES_REQUESTED, comments="Dose.",
        signed_name="x", signed_credentials="MD", signed_specialties=[], signed_username=second.reviewer.user.username,
        signed_at=timezone.now(), meaning=Review.MEANINGS[Review.Decision.CHANGES_REQUESTED],
        revision_hash=approval.revision_hash)
    article.refresh_from_db()
    assert {r.rule: r.message for r in rules.checklist(article, "approve")}["quorum_met"] == "1 of 2 approvals."

    approval.voided_at, approval.void_reason = timezone.now(), "signed in error"
    approval.save(update_fields=["voided_at", "void_reason"])
    assert {r.rule: r.message for r in rules.checklist(article, "approve")}["quorum_met"] == "0 of 2 approvals."

    sign(third)  # one unvoided approval: still short of two
    assert state_of(article) == ArticleState.IN_REVIEW


def test_it_keeps_the_quorum_a_review_started_with_when_the_policy_is_raised_mid_review(
        make_article, drive, chief, board, topic):
    from governance.workflow import rules

    policy = ReviewPolicyFactory(topic=topic, approvals_required=2)
    article = drive(make_article(), "submitted")
    first, second, _ = assign(article, chief, board)
    services.article_start_review(article=article, actor=chief)

    policy.approvals_required = 3  # raised while the review runs: applies to the next review
    policy.save()
    sign(first)
    article.refresh_from_db()
    assert {r.rule: r.message for r in rules.checklist(article, "approve")}["quorum_met"] == "1 of 2 approvals."

    sign(second)
    assert state_of(article) == ArticleState.APPROVED


def test_it_keeps_the_required_specialties_a_review_started_with(
        make_article, drive, chief, topic, generalists):
    policy = ReviewPolicyFactory(topic=topic, approvals_required=2)
    article = drive(make_article(), "submitted")
    first, second = assign(article, chief, generalists)
    services.article_start_review(article=article, actor=chief)

    policy.required_specialties.add(SpecialtyFactory(slug="nephrology", name="Nephrology"))
    sign(first)
    sign(second)

    assert state_of(article) == ArticleState.APPROVED


def test_it_applies_a_lowered_quorum_only_to_the_next_review(make_article, drive, chief, board, topic):
    policy = ReviewPolicyFactory(topic=topic, approvals_required=2)
    article = drive(make_article(), "submitted")
    first, _ = assign(article, chief, board[:2])
    services.article_start_review(article=article, actor=chief)

    policy.approvals_required = 1
    policy.save()
    sign(first)

    assert state_of(article) == ArticleState.IN_REVIEW
