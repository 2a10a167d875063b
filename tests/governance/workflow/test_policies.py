"""governance.workflow.policies, asked directly and through the services that ask it: the branches
the admin's filtered lists hide (another member's record never shows there, so the ownership
checks are never reached through it)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from governance.workflow import policies, services
from governance.workflow.exceptions import NotPermitted
from governance.workflow.services import conflicts, credentials
from reviewers.models import ConflictOfInterest, CredentialChange, Review
from tests import factories
from tests.factories import PASSWORD


def _deactivate(user):
    user.is_active = False
    user.save()
    return user


# --- roles: an inactive user holds none ---------------------------------------------------------

def test_an_active_managing_editor_and_writer_hold_their_roles(chief, writer):
    assert policies.is_managing_editor(chief) and policies.is_writer(chief)
    assert policies.is_writer(writer) and not policies.is_managing_editor(writer)


def test_an_inactive_managing_editor_is_neither_editor_nor_writer(chief):
    _deactivate(chief)
    assert not policies.is_managing_editor(chief)
    assert not policies.is_writer(chief)
    assert not policies.may_administer(chief)


def test_an_inactive_writer_is_no_writer(writer, make_article):
    article = make_article()
    _deactivate(writer)
    assert not policies.is_writer(writer)
    assert not policies.may_create_article(writer)
    assert not policies.may_edit(writer, article)
    assert not policies.may_transition(writer, "submit", article)


def test_an_inactive_superuser_is_no_managing_editor(db):
    root = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    assert policies.is_managing_editor(root)
    _deactivate(root)
    assert not policies.is_managing_editor(root)


def test_the_board_member_profile_of_an_inactive_member_counts_for_nothing(board, outsider):
    member = board[0]
    assert policies.board_member(member.user) == member
    member.is_active = False
    member.save()
    user = type(member.user).objects.get(pk=member.user_id)  # a fresh request's user
    assert policies.board_member(user) is None
    assert policies.board_member(outsider) is None  # no profile at all
    assert not policies.may_use_editorial_api(user)
    assert policies.conflicts_scope(user) == "none"


def test_an_inactive_member_may_not_sign_their_own_assignment(make_article, drive, board):
    article = drive(make_article(), "in_review")
    assignment = article.assignments.get(reviewer=board[0])
    assert policies.may_review(board[0].user, assignment)
    board[0].is_active = False
    board[0].save()
    user = type(board[0].user).objects.get(pk=board[0].user_id)
    assert not policies.may_review(user, assignment)
    with pytest.raises(NotPermitted) as refused:
        services.review_record(assignment=assignment, actor=user, decision="approve", password=PASSWORD)
    assert refused.value.rule == "assigned_reviewer"


def test_a_member_may_not_sign_another_members_assignment(make_article, drive, board):
    article = drive(make_article(), "in_review")
    theirs = article.assignments.get(reviewer=board[0])
    assert not policies.may_review(board[1].user, theirs)
    with pytest.raises(NotPermitted) as refused:
        services.review_record(assignment=theirs, actor=board[1].user, decision="approve", password=PASSWORD)
    assert refused.value.rule == "assigned_reviewer"
    assert not Review.objects.filter(assignment=theirs).exists()


# --- ownership: a member's own record, never another's ------------------------------------------

def test_a_member_edits_their_own_profile_and_not_another_members(board):
    own, other = board[0], board[1]
    assert policies.may_edit_board_member(own.user, own)
    assert not policies.may_edit_board_member(own.user, other)

    credentials.board_member_update(actor=own.user, member=own, changes={"affiliation": "Own Hospital"})
    with pytest.raises(NotPermitted) as refused:
        credentials.board_member_update(actor=own.user, member=other, changes={"affiliation": "Not theirs"})

    assert refused.value.rule == "may_edit_board_member"
    own.refresh_from_db()
    other.refresh_from_db()
    assert (own.affiliation, other.affiliation) == ("Own Hospital", "St Elsewhere Hospital")


def test_a_member_ends_their_own_declaration_and_not_another_members(board, topic):
    own = factories.ConflictFactory(member=board[0], topic=topic)
    other = factories.ConflictFactory(member=board[1], topic=topic)
    assert policies.may_declare_conflict(board[0].user, own)
    assert not policies.may_declare_conflict(board[0].user, other)

    with pytest.raises(NotPermitted) as refused:
        conflicts.conflict_end(actor=board[0].user, conflict=other, reason="Not mine to end.")
    conflicts.conflict_end(actor=board[0].user, conflict=own, reason="The consultancy ended.")

    assert refused.value.rule == "may_declare_conflict"
    assert ConflictOfInterest.objects.get(pk=other.pk).ended_at is None
    assert ConflictOfInterest.objects.get(pk=own.pk).ended_at is not None


def test_a_member_declares_only_their_own_interests(board, topic):
    theirs = ConflictOfInterest(member=board[1], topic=topic, nature="consulting", counterparty="Acme",
                                starts_on=timezone.localdate())
    with pytest.raises(NotPermitted) as refused:
        conflicts.conflict_declare(actor=board[0].user, conflict=theirs)
    assert refused.value.rule == "may_declare_conflict"
    assert not ConflictOfInterest.objects.exists()


def test_a_member_proposes_changes_of_their_own_credentials_only(board):
    own, other = board[0], board[1]
    assert policies.may_propose_credentials(own.user, own) and policies.may_propose_credentials(own.user)
    assert not policies.may_propose_credentials(own.user, other)
    with pytest.raises(NotPermitted) as refused:
        credentials.credential_change_propose(actor=own.user, member=other, note="Renewed.",
                                              changes={"licence_number": "LIC999999"})
    assert refused.value.rule == "may_propose_credentials"
    assert not CredentialChange.objects.filter(member=other, licence_number="LIC999999").exists()


def test_the_managing_editor_keeps_every_members_records(chief, board, topic):
    conflict = factories.ConflictFactory(member=board[1], topic=topic)
    assert policies.may_edit_board_member(chief, board[1])
    assert policies.may_declare_conflict(chief, conflict)
    assert policies.may_propose_credentials(chief, board[1])


def test_an_outsider_keeps_no_members_records(outsider, board, topic):
    conflict = factories.ConflictFactory(member=board[1], topic=topic)
    assert not policies.may_edit_board_member(outsider, board[1])
    assert not policies.may_declare_conflict(outsider, conflict)
    assert not policies.may_declare_conflict(outsider)
    assert not policies.may_propose_credentials(outsider, board[1])
    assert not policies.may_propose_credentials(outsider)
