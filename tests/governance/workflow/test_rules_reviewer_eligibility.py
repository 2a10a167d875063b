"""Who may review: nobody reviews their own writing; an active conflict of interest on the topic
or an expired licence blocks both assignment and approval; `nature=none` and ended conflicts
block nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from articles.models import ArticleState
from governance.workflow import services
from governance.workflow.exceptions import AssignmentRefused, ReviewRefused
from reviewers.models import ConflictOfInterest
from tests.conftest import article_content
from tests.factories import PASSWORD, BoardMemberFactory, ConflictFactory, TopicFactory


def assign(article, chief, member):
    return services.assignment_create(article=article, actor=chief, reviewer=member)


def sign(assignment):
    return services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                                  password=PASSWORD)


@pytest.fixture
def in_review_with(make_article, drive, chief, board):
    """An article under review by board[0], board[1] and `member` (assigned before review starts)."""

    def make(member):
        article = drive(make_article(), "submitted")
        assignments = [assign(article, chief, m) for m in (*board[:2], member)]
        services.article_start_review(article=article, actor=chief)
        return article, assignments[-1]

    return make


# --- self-review --------------------------------------------------------------------------------

def test_it_refuses_to_assign_the_articles_author(make_article, drive, chief, writer):
    author_on_board = BoardMemberFactory(user=writer)
    article = drive(make_article(), "submitted")

    with pytest.raises(AssignmentRefused) as refused:
        assign(article, chief, author_on_board)

    assert refused.value.rule == "no_self_review"
    assert refused.value.http_status == 409


def test_it_refuses_to_assign_the_author_of_a_later_revision(make_article, chief, drive):
    member = BoardMemberFactory(user=chief)  # the managing editor also sits on the board
    article = make_article()
    services.article_edit(article=article, actor=chief, content=article_content(summary="Edited by the chief."))
    article = drive(article, "submitted")

    with pytest.raises(AssignmentRefused) as refused:
        assign(article, chief, member)

    assert refused.value.rule == "no_self_review"


def test_it_refuses_the_signature_of_a_reviewer_who_became_an_author(make_article, drive, chief, board, writer):
    member = BoardMemberFactory(user=chief)
    article = drive(make_article(), "submitted")
    assignment = assign(article, chief, member)  # allowed: the chief wrote nothing yet
    article = services.article_edit(article=article, actor=chief, content=article_content(summary="Chief's edit."))
    article = services.article_submit(article=article, actor=writer)
    for m in board[:2]:
        assign(article, chief, m)
    services.article_start_review(article=article, actor=chief)

    with pytest.raises(ReviewRefused) as refused:
        sign(assignment)

    assert refused.value.rule == "no_self_review"
    assert not article.reviews.exists()


def test_it_assigns_a_board_member_who_did_not_write_the_article(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")

    assert assign(article, chief, board[0]).status == "open"


# --- conflicts of interest ----------------------------------------------------------------------

def test_it_refuses_to_assign_a_reviewer_with_an_active_conflict_on_the_topic(make_article, drive, chief, topic):
    member = BoardMemberFactory()
    ConflictFactory(member=member, topic=topic, nature="consulting", counterparty="Acme Pharma")
    article = drive(make_article(), "submitted")

    with pytest.raises(AssignmentRefused) as refused:
        assign(article, chief, member)

    assert refused.value.rule == "no_conflict_of_interest"
    assert "Consulting fees" in refused.value.message


def test_it_refuses_the_signature_of_a_reviewer_who_declared_a_conflict_after_assignment(in_review_with, topic):
    member = BoardMemberFactory()
    article, assignment = in_review_with(member)
    ConflictFactory(member=member, topic=topic, nature="grants", counterparty="Heart Foundation")

    with pytest.raises(ReviewRefused) as refused:
        sign(assignment)

    assert refused.value.rule == "no_conflict_of_interest"
    assert not article.reviews.exists()


def test_it_does_not_count_a_conflicted_assignee_towards_the_quorum(make_article, drive, chief, board, topic):
    from governance.workflow.exceptions import TransitionRefused

    article = drive(make_article(), "submitted")
    assign(article, chief, board[0])
    assign(article, chief, board[1])
    ConflictFactory(member=board[1], topic=topic, starts_on=timezone.localdate())

    with pytest.raises(TransitionRefused) as refused:
        services.article_start_review(article=article, actor=chief)

    assert refused.value.rule == "assignments_reach_quorum"


def test_it_lets_an_explicit_none_declaration_block_nothing(in_review_with, topic):
    member = BoardMemberFactory()
    ConflictOfInterest.objects.create(member=member, topic=topic, nature="none", starts_on=dt.date(2020, 1, 1))
    _article, assignment = in_review_with(member)

    assert sign(assignment).decision == "approved"


def test_it_lets_an_ended_conflict_block_nothing(in_review_with, topic):
    member = BoardMemberFactory()
    ConflictFactory(member=member, topic=topic, starts_on=dt.date(2020, 1, 1),
                    ends_on=timezone.localdate() - dt.timedelta(days=1))
    _article, assignment = in_review_with(member)

    assert sign(assignment).decision == "approved"


def test_it_lets_a_conflict_on_another_topic_block_nothing(in_review_with):
    member = BoardMemberFactory()
    ConflictFactory(member=member, topic=TopicFactory(slug="oncology"))
    _article, assignment = in_review_with(member)

    assert sign(assignment).decision == "approved"


def test_it_lets_a_conflict_that_starts_later_block_nothing_yet(in_review_with, topic):
    member = BoardMemberFactory()
    ConflictFactory(member=member, topic=topic, starts_on=timezone.localdate() + dt.timedelta(days=10))
    _article, assignment = in_review_with(member)

    assert sign(assignment).decision == "approved"


# --- licences -----------------------------------------------------------------------------------

def test_it_refuses_to_assign_a_reviewer_whose_licence_expired(make_article, drive, chief):
    member = BoardMemberFactory(licence_expires_on=timezone.localdate() - dt.timedelta(days=1))
    article = drive(make_article(), "submitted")

    with pytest.raises(AssignmentRefused) as refused:
        assign(article, chief, member)

    assert refused.value.rule == "licence_valid"


def test_it_refuses_the_signature_of_a_reviewer_whose_licence_expired_after_assignment(in_review_with):
    member = BoardMemberFactory()
    _article, assignment = in_review_with(member)
    member.licence_expires_on = timezone.localdate() - dt.timedelta(days=1)
    member.save()

    with pytest.raises(ReviewRefused) as refused:
        sign(assignment)

    assert refused.value.rule == "licence_valid"


def test_it_accepts_a_licence_that_expires_today(in_review_with):
    member = BoardMemberFactory(licence_expires_on=timezone.localdate())
    _article, assignment = in_review_with(member)

    assert sign(assignment).decision == "approved"


def test_it_refuses_an_inactive_board_member(make_article, drive, chief):
    member = BoardMemberFactory(is_active=False)
    article = drive(make_article(), "submitted")

    with pytest.raises(AssignmentRefused) as refused:
        assign(article, chief, member)

    assert refused.value.rule == "reviewer_active"


def test_it_refuses_to_assign_the_same_reviewer_twice(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")
    assign(article, chief, board[0])

    with pytest.raises(AssignmentRefused) as refused:
        assign(article, chief, board[0])

    assert refused.value.rule == "not_already_assigned"


def test_it_refuses_assignment_to_a_draft(make_article, chief, board):
    with pytest.raises(AssignmentRefused) as refused:
        assign(make_article(), chief, board[0])

    assert refused.value.rule == "state_allows_assignment"


def test_it_approves_when_the_eligible_reviewers_reach_quorum(in_review_with, board):
    member = BoardMemberFactory()
    article, assignment = in_review_with(member)
    sign(assignment)
    sign(article.assignments.get(reviewer=board[0]))

    article.refresh_from_db()
    assert article.state == ArticleState.APPROVED
