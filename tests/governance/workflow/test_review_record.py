"""A review decision is an electronic signature: password re-entry, and a record of name,
credentials, time, meaning and the hash of the revision signed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from articles.models import ArticleState
from governance.models import AuditEvent
from governance.workflow import services
from governance.workflow.exceptions import ContentInvalid, NotPermitted, ReauthenticationFailed, ReviewRefused
from reviewers.models import Review
from tests.factories import PASSWORD

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def under_review(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")
    assignments = [services.assignment_create(article=article, actor=chief, reviewer=m) for m in board[:2]]
    article = services.article_start_review(article=article, actor=chief)
    return article, assignments


def test_it_records_the_signature(under_review):
    article, (assignment, _) = under_review
    member = assignment.reviewer

    with time_machine.travel(NOON, tick=False):
        review = services.review_record(assignment=assignment, actor=member.user, decision="approve",
                                        password=PASSWORD, comments="Accurate.")

    assert (review.signed_name, review.signed_credentials, review.signed_username) == (
        member.printed_name, "MD", "reviewer1")
    assert review.signed_at == NOON
    assert review.meaning == "approved as medically accurate"
    assert review.revision_hash == article.current_revision.content_hash
    assert review.signed_specialties == ["Cardiology"]
    assignment.refresh_from_db()
    assert assignment.status == "completed"
    event = AuditEvent.objects.get(action="review.sign")
    assert event.actor_username == "reviewer1"
    assert event.data["meaning"] == "approved as medically accurate"
    assert event.data["revision_hash"] == review.revision_hash


def test_it_records_nothing_on_a_wrong_password(under_review):
    _, (assignment, _) = under_review

    with pytest.raises(ReauthenticationFailed) as refused:
        services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                               password="wrong")

    assert refused.value.http_status == 403
    assert not Review.objects.exists()
    assert not AuditEvent.objects.filter(action="review.sign").exists()


def test_it_refuses_a_board_member_who_is_not_assigned(under_review, board):
    _, (assignment, _) = under_review

    with pytest.raises(NotPermitted) as refused:
        services.review_record(assignment=assignment, actor=board[2].user, decision="approve", password=PASSWORD)

    assert refused.value.rule == "assigned_reviewer"


def test_it_refuses_a_second_decision_on_the_same_assignment(under_review):
    _, (assignment, _) = under_review
    services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                           password=PASSWORD)

    with pytest.raises(ReviewRefused) as refused:
        services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                               password=PASSWORD)

    assert refused.value.rule == "assignment_open"
    assert Review.objects.count() == 1


def test_it_sends_the_article_back_to_draft_on_a_request_for_changes(under_review):
    article, (assignment, _) = under_review

    review = services.review_record(assignment=assignment, actor=assignment.reviewer.user,
                                    decision="request_changes", password=PASSWORD, comments="Cite the 2023 update.")

    article.refresh_from_db()
    assert article.state == ArticleState.DRAFT
    assert review.meaning == "changes requested"
    event = AuditEvent.objects.get(action="article.request_changes")
    assert (event.from_state, event.to_state, event.reason) == ("in_review", "draft", "Cite the 2023 update.")
    assert event.actor_username == "reviewer1"


def test_it_refuses_a_request_for_changes_that_says_nothing(under_review):
    article, (assignment, _) = under_review

    with pytest.raises(ContentInvalid) as invalid:
        services.review_record(assignment=assignment, actor=assignment.reviewer.user,
                               decision="request_changes", password=PASSWORD, comments="  ")

    assert list(invalid.value.errors) == ["comments"]
    article.refresh_from_db()
    assert article.state == ArticleState.IN_REVIEW


def test_it_refuses_an_unknown_decision(under_review):
    _, (assignment, _) = under_review

    with pytest.raises(ContentInvalid) as invalid:
        services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="maybe",
                               password=PASSWORD)

    assert list(invalid.value.errors) == ["decision"]


def test_it_refuses_a_decision_when_the_article_is_not_under_review(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")
    assignment = services.assignment_create(article=article, actor=chief, reviewer=board[0])

    with pytest.raises(ReviewRefused) as refused:
        services.review_record(assignment=assignment, actor=board[0].user, decision="approve", password=PASSWORD)

    assert refused.value.rule == "article_in_review"


def test_it_refuses_to_change_a_signed_review(under_review):
    _, (assignment, _) = under_review
    review = services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                                    password=PASSWORD)
    review.meaning = "something else"

    with pytest.raises(ValidationError):
        review.save()

    review.voided_at, review.void_reason = NOON, "test"
    review.save(update_fields=["voided_at", "void_reason"])  # voiding is the one change allowed
    assert Review.objects.get(pk=review.pk).meaning == "approved as medically accurate"


def test_it_keeps_the_signature_as_signed_when_the_profile_changes(under_review):
    _, (assignment, _) = under_review
    review = services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                                    password=PASSWORD)
    member = assignment.reviewer
    signed = (member.printed_name, member.credentials, [s.name for s in member.specialties.all()])
    member.printed_name, member.credentials = "Prof Renamed", "PhD"
    member.save()
    member.specialties.clear()

    review.refresh_from_db()
    assert (review.signed_name, review.signed_credentials, review.signed_specialties) == signed
    assert signed[0] != "Prof Renamed" and signed[1] != "PhD" and signed[2]
