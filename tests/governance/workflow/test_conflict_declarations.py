"""Conflict-of-interest declarations keep what they were: a member declares at any time, ends a
declaration only from today on and with a reason (never back-dated), and never edits it after it
is made. Ending one that blocks an open assignment tells the managing editor."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from governance.background import notifications
from governance.models import AuditEvent, Notification
from governance.workflow import audit, services
from governance.workflow.exceptions import ConflictRefused, ContentInvalid, NotPermitted
from governance.workflow.services import conflicts
from reviewers.models import ConflictOfInterest
from tests import factories

TODAY = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _on_a_fixed_day():
    with time_machine.travel(TODAY, tick=True):
        yield


@pytest.fixture
def declared(board, topic):
    return factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 1, 5),
                                     counterparty="Acme Pharma")


def test_it_ends_a_declaration_today_with_a_reason_and_audits_old_and_new(declared, board):
    ended = conflicts.conflict_end(actor=board[0].user, conflict=declared, reason="The consultancy ended.")

    assert ended.ends_on == dt.date(2026, 6, 15)
    assert ended.end_reason == "The consultancy ended."
    assert ended.ended_by == board[0].user and ended.ended_at is not None
    (event,) = AuditEvent.objects.filter(action="conflict.end")
    assert event.data["changed"] == {"ends_on": [None, "2026-06-15"], "end_reason": ["", "The consultancy ended."]}
    assert event.reason == "The consultancy ended."
    assert audit.verify().ok


def test_it_ends_a_declaration_on_a_later_day(declared, board):
    ended = conflicts.conflict_end(actor=board[0].user, conflict=declared, on=dt.date(2026, 7, 1),
                                   reason="The contract runs to the end of June.")

    assert ended.ends_on == dt.date(2026, 7, 1)
    assert ended.is_active(dt.date(2026, 6, 30)) and not ended.is_active(dt.date(2026, 7, 2))


@pytest.mark.parametrize("actor", ["member", "chief"])
def test_it_refuses_to_backdate_the_end_of_a_declaration(declared, board, chief, actor):
    user = board[0].user if actor == "member" else chief

    with pytest.raises(ContentInvalid) as refused:
        conflicts.conflict_end(actor=user, conflict=declared, on=dt.date(2026, 6, 14), reason="Ended in May really.")

    assert refused.value.rule == "conflict_end_not_backdated"
    assert "ends_on" in refused.value.errors
    declared.refresh_from_db()
    assert declared.ends_on is None and not AuditEvent.objects.filter(action="conflict.end").exists()


def test_it_requires_a_reason_to_end_a_declaration(declared, board):
    with pytest.raises(ContentInvalid) as refused:
        conflicts.conflict_end(actor=board[0].user, conflict=declared, reason="   ")

    assert "end_reason" in refused.value.errors
    declared.refresh_from_db()
    assert declared.ends_on is None


def test_it_does_not_end_a_declaration_twice(declared, board):
    conflicts.conflict_end(actor=board[0].user, conflict=declared, reason="Ended.")

    with pytest.raises(ConflictRefused) as refused:
        conflicts.conflict_end(actor=board[0].user, conflict=declared, on=dt.date(2026, 6, 20), reason="Again.")

    assert refused.value.rule == "conflict_in_effect"


def test_it_does_not_let_a_member_end_another_members_declaration(declared, board):
    with pytest.raises(NotPermitted):
        conflicts.conflict_end(actor=board[1].user, conflict=declared, reason="Not mine.")


def test_it_keeps_no_service_that_edits_a_declaration():
    assert not hasattr(services, "conflict_update") and not hasattr(conflicts, "conflict_update")


# --- the admin ----------------------------------------------------------------------------------

def change_url(conflict: ConflictOfInterest) -> str:
    return reverse("admin:reviewers_conflictofinterest_change", args=[conflict.pk])


def test_it_does_not_edit_a_declaration_in_the_admin(client, declared, board):
    client.force_login(board[0].user)

    response = client.post(change_url(declared), {"counterparty": "Someone Else Ltd", "description": "rewritten",
                                                  "ends_on": "2026-02-01", "starts_on": "2026-03-01",
                                                  "nature": "grants", "end_on": "", "end_reason": ""})

    declared.refresh_from_db()
    assert (declared.counterparty, declared.description, declared.ends_on, declared.starts_on, declared.nature) == (
        "Acme Pharma", "", None, dt.date(2026, 1, 5), "consulting")
    assert response.status_code in (200, 302)
    assert not AuditEvent.objects.filter(action__startswith="conflict.").exists()


def test_it_ends_a_declaration_in_the_admin_from_today_with_a_reason(client, declared, board):
    client.force_login(board[0].user)
    page = client.get(change_url(declared)).content.decode()
    assert 'name="end_reason"' in page and 'name="counterparty"' not in page

    backdated = client.post(change_url(declared), {"end_on": "2026-06-01", "end_reason": "Ended in May."})
    declared.refresh_from_db()
    assert backdated.status_code == 200 and declared.ends_on is None
    assert "cannot be before today" in backdated.content.decode()

    ended = client.post(change_url(declared), {"end_on": "2026-06-15", "end_reason": "The consultancy ended."})
    declared.refresh_from_db()
    assert ended.status_code == 302
    assert (declared.ends_on, declared.end_reason, declared.ended_by) == (
        dt.date(2026, 6, 15), "The consultancy ended.", board[0].user)


def test_it_ends_declarations_with_the_admin_action_after_asking_a_reason(client, board, topic):
    mine = factories.ConflictFactory(member=board[0], topic=topic)
    client.force_login(board[0].user)
    changelist = reverse("admin:reviewers_conflictofinterest_changelist")

    asked = client.post(changelist, {"action": "end_today", "_selected_action": [mine.pk]})
    assert asked.status_code == 200 and 'name="end_reason"' in asked.content.decode()
    mine.refresh_from_db()
    assert mine.ends_on is None

    client.post(changelist, {"action": "end_today", "_selected_action": [mine.pk], "apply": "1",
                             "end_reason": "No longer consulting."})
    mine.refresh_from_db()
    assert (mine.ends_on, mine.end_reason) == (dt.date(2026, 6, 15), "No longer consulting.")


# --- the managing editor is told ----------------------------------------------------------------

def test_it_tells_the_managing_editor_when_an_ended_declaration_blocked_an_open_assignment(
        make_article, drive, chief, board, topic, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    article = drive(make_article(), "in_review")
    member = board[0]
    conflict = ConflictOfInterest(member=member, topic=topic, nature="consulting", counterparty="Acme Pharma",
                                  starts_on=dt.date(2026, 6, 1))
    conflicts.conflict_declare(actor=member.user, conflict=conflict)
    assert not notifications.inbox(chief).exists()

    conflicts.conflict_end(actor=member.user, conflict=conflict, reason="Sold my shares today.")

    (told,) = notifications.inbox(chief)
    assignment = article.assignments.get(reviewer=member)
    assert told.kind == Notification.Kind.CONFLICT_ENDED
    assert (told.article, told.assignment) == (article, assignment)
    assert member.printed_name in told.subject and "Sold my shares today." in told.body
    assert article.title in told.body
    assert f"/admin/reviewers/reviewassignment/{assignment.pk}/change/" in told.body
    assert not Notification.objects.exclude(recipient=chief).exists()  # the board is not told
    assert notifications.send_pending_emails() == 1
    assert [m.to for m in mail.outbox] == [[chief.email]]


def test_it_tells_nobody_when_the_ended_declaration_blocked_no_open_assignment(make_article, drive, chief, board,
                                                                               topic):
    drive(make_article(), "published")  # board[0]'s assignment is completed
    conflict = factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 6, 1))
    none_declared = factories.ConflictFactory(member=board[1], topic=topic, nature="none", counterparty="")

    conflicts.conflict_end(actor=board[0].user, conflict=conflict, reason="Ended.")
    conflicts.conflict_end(actor=board[1].user, conflict=none_declared, reason="Declaring afresh.")

    assert not Notification.objects.exists()


# --- who reads a declaration ----------------------------------------------------------------------

def test_the_author_does_not_read_a_reviewers_declaration_on_the_article_page(client, make_article, drive, writer,
                                                                              chief, board, topic):
    """The editor UI's approval progress says a reviewer cannot approve; why (their declared
    interest) is for the managing editor, not the author."""
    article = drive(make_article(), "in_review")
    factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 6, 1),
                              nature="stock", counterparty="Acme Pharma")
    url = reverse("articles:detail", args=[article.slug])

    client.force_login(writer)
    authors_view = client.get(url).content.decode()
    client.force_login(chief)
    editors_view = client.get(url).content.decode()

    assert "Stock or stock options" in editors_view and "no_conflict_of_interest" in editors_view
    assert board[0].printed_name in authors_view and "cannot approve" in authors_view
    assert "Stock or stock options" not in authors_view and "conflict" not in authors_view.lower()
