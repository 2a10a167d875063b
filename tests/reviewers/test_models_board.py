"""The board's data invariants: licences, conflict-of-interest declarations (with an explicit
"none"), one open review cycle per article, one open assignment per reviewer and article."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.workflow import services
from reviewers.models import ConflictOfInterest, ReviewAssignment, ReviewCycle
from tests.factories import BoardMemberFactory, ConflictFactory

TODAY = dt.date(2026, 3, 2)


def test_it_treats_a_licence_as_valid_through_its_expiry_date(db):
    member = BoardMemberFactory(licence_expires_on=TODAY)

    assert member.licence_valid(TODAY)
    assert not member.licence_valid(TODAY + dt.timedelta(days=1))


def test_it_refuses_a_conflict_that_ends_before_it_starts(db, topic):
    conflict = ConflictFactory.build(member=BoardMemberFactory(), topic=topic, starts_on=TODAY,
                                     ends_on=TODAY - dt.timedelta(days=1))

    with pytest.raises(ValidationError) as invalid:
        conflict.full_clean()

    assert "ends_on" in invalid.value.message_dict


def test_it_requires_a_counterparty_or_description_for_a_declared_interest(db, topic):
    conflict = ConflictOfInterest(member=BoardMemberFactory(), topic=topic, nature="consulting", starts_on=TODAY)

    with pytest.raises(ValidationError) as invalid:
        conflict.full_clean()

    assert "counterparty" in invalid.value.message_dict


def test_it_accepts_an_explicit_none_declaration_without_a_counterparty(db, topic):
    conflict = ConflictOfInterest(member=BoardMemberFactory(), topic=topic, nature="none", starts_on=TODAY)

    conflict.full_clean()
    assert not conflict.blocks
    assert not conflict.is_active(TODAY)


def test_it_refuses_a_blank_nature(db, topic):
    conflict = ConflictOfInterest(member=BoardMemberFactory(), topic=topic, nature="", starts_on=TODAY)

    with pytest.raises(ValidationError) as invalid:
        conflict.full_clean()

    assert "nature" in invalid.value.message_dict


@pytest.mark.parametrize(("starts", "ends", "active"), [
    (-10, None, True), (-10, 0, True), (-10, -1, False), (1, None, False),
])
def test_it_knows_when_a_conflict_is_active(db, topic, starts, ends, active):
    conflict = ConflictFactory(topic=topic, starts_on=TODAY + dt.timedelta(days=starts),
                               ends_on=None if ends is None else TODAY + dt.timedelta(days=ends))

    assert conflict.is_active(TODAY) is active
    matches = ConflictOfInterest.objects.filter(ConflictOfInterest.active_q(TODAY), pk=conflict.pk).exists()
    assert matches is active


def test_it_keeps_one_open_review_cycle_per_article(make_article, drive):
    article = drive(make_article(), "in_review")

    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewCycle.objects.create(article=article, revision=article.current_revision, approvals_required=2)

    assert ReviewCycle.objects.filter(article=article, closed_at__isnull=True).count() == 1


def test_it_allows_a_new_cycle_once_the_last_is_closed(make_article, drive, writer, chief, board):
    article = drive(make_article(), "in_review")
    services.article_request_changes(article=article, actor=chief, reason="More detail")

    ReviewCycle.objects.create(article=article, revision=article.current_revision, approvals_required=2)

    assert ReviewCycle.objects.filter(article=article).count() == 2


def test_it_keeps_one_open_assignment_per_reviewer_and_article(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")
    first = services.assignment_create(article=article, actor=chief, reviewer=board[0])

    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewAssignment.objects.create(article=article, reviewer=board[0], assigned_by=chief, due_at=first.due_at)

    services.assignment_cancel(assignment=first, actor=chief)
    again = services.assignment_create(article=article, actor=chief, reviewer=board[0])
    assert again.pk != first.pk


def test_it_flags_an_open_assignment_past_its_due_date_as_overdue(make_article, drive, chief, board):
    article = drive(make_article(), "submitted")
    assignment = services.assignment_create(article=article, actor=chief, reviewer=board[0],
                                            due_at=timezone.now() + dt.timedelta(days=1))
    assert not assignment.is_overdue

    assignment.due_at = timezone.now() - dt.timedelta(minutes=1)
    assert assignment.is_overdue
    assignment.status = ReviewAssignment.Status.COMPLETED
    assert not assignment.is_overdue
