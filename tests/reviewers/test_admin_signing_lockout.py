"""The signing lockout in the admin: a board member's wrong passwords on the review page are
audited (path admin) and lock signing; the managing editor sees the locked signers (filtered) and
unlocks them with an action, audited `signature.unlock`; nobody else can."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.models import AuditEvent
from reviewers.models import Review, ReviewAssignment
from tests.factories import PASSWORD
from tests.reviewers.test_admin_signing import review_url

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
LOCKOUTS = "admin:governance_signingguard_changelist"


@pytest.fixture
def assignment(make_article, drive, board):
    return drive(make_article(), "in_review").assignments.get(reviewer=board[0])


def fail_in_admin(client, assignment, times: int):
    client.force_login(assignment.reviewer.user)
    for _ in range(times):
        client.post(review_url(assignment), {"decision": "approve", "password": "wrong"}, REMOTE_ADDR="198.51.100.23")


def test_it_audits_a_wrong_password_on_the_review_page(client, assignment):
    fail_in_admin(client, assignment, 1)

    event = AuditEvent.objects.get(action="signature.failed")
    assert (event.data["path"], event.data["client_address"]) == ("admin", "198.51.100.23")
    assert event.object_id == str(assignment.pk)


def test_it_refuses_the_right_password_once_locked_and_says_until_when(client, assignment):
    with time_machine.travel(NOON, tick=False):
        fail_in_admin(client, assignment, 5)

        response = client.post(review_url(assignment), {"decision": "approve", "password": PASSWORD}, follow=True)
        page = client.get(review_url(assignment)).content.decode()

    assert not Review.objects.exists()
    messages = [str(m) for m in response.context["messages"]]
    assert any("rule: signing_locked" in m and "12:15" in m for m in messages), messages
    assert "Signing is locked until" in page and "12:15" in page


def test_the_managing_editor_sees_locked_signers_and_unlocks_them(client, assignment, board, chief):
    fail_in_admin(client, assignment, 5)
    fail_in_admin(client, ReviewAssignment.objects.get(article=assignment.article, reviewer=board[1]), 2)
    client.force_login(chief)

    everyone = client.get(reverse(LOCKOUTS)).content.decode()
    locked = client.get(reverse(LOCKOUTS), {"status": "locked"}).content.decode()

    assert board[0].user.username in everyone and board[1].user.username in everyone
    assert board[0].user.username in locked and board[1].user.username not in locked
    guard_id = assignment.reviewer.user_id
    response = client.post(reverse(LOCKOUTS), {"action": "unlock_signing", "_selected_action": [guard_id]},
                           follow=True)

    assert any("Signing unlocked for reviewer1" in str(m) for m in response.context["messages"])
    event = AuditEvent.objects.get(action="signature.unlock")
    assert (event.actor_username, event.data["user"]) == ("chief", "reviewer1")
    assert board[0].user.username not in client.get(reverse(LOCKOUTS), {"status": "locked"}).content.decode()
    client.force_login(assignment.reviewer.user)
    client.post(review_url(assignment), {"decision": "approve", "password": PASSWORD})
    assert Review.objects.filter(assignment=assignment).exists()


def test_a_board_member_neither_sees_nor_unlocks_the_lockouts(client, assignment, board):
    fail_in_admin(client, assignment, 5)
    client.force_login(board[1].user)

    listing = client.get(reverse(LOCKOUTS))
    client.post(reverse(LOCKOUTS), {"action": "unlock_signing", "_selected_action": [assignment.reviewer.user_id]})
    client.force_login(assignment.reviewer.user)
    own = client.post(reverse(LOCKOUTS), {"action": "unlock_signing",
                                          "_selected_action": [assignment.reviewer.user_id]})

    assert listing.status_code == 403 and own.status_code == 403
    assert not AuditEvent.objects.filter(action="signature.unlock").exists()


def test_the_lockout_list_costs_the_same_queries_for_more_signers(client, make_article, drive, board, chief):
    article = drive(make_article(), "in_review", reviewers=board)
    assignments = list(article.assignments.order_by("pk"))
    fail_in_admin(client, assignments[0], 5)
    client.force_login(chief)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse(LOCKOUTS))
    for other in assignments[1:]:
        fail_in_admin(client, other, 5)
    client.force_login(chief)

    with CaptureQueriesContext(connection) as three:
        html = client.get(reverse(LOCKOUTS)).content.decode()

    assert all(m.user.username in html for m in board)
    assert len(three) == len(one)

