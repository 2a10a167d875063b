"""The signing lockout under concurrency, on PostgreSQL with real threads (each its own
connection): a failure is committed before the refusal is answered, wrong passwords sent at once
all count, and a burst of guesses sent at once when one attempt is left gets exactly one
password check."""

from __future__ import annotations

import pytest

from governance.models import AuditEvent, SigningFailure
from governance.workflow import services
from governance.workflow.exceptions import ReauthenticationFailed, SigningLocked
from tests.api.conftest import token_client
from tests.governance.workflow.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WRONG = "not-the-password"


def guess(assignment, password: str = WRONG):
    return lambda: services.review_record(assignment=assignment, actor=assignment.reviewer.user,
                                          decision="approve", password=password, path="api")


def test_a_failure_is_committed_although_nothing_is_signed(live_db, make_article, drive, board):
    assignment = drive(make_article(), "in_review").assignments.get(reviewer=board[0])

    response = token_client(board[0].user).post(f"/api/v1/editorial/assignments/{assignment.pk}/review/",
                                                {"decision": "approve", "password": WRONG}, format="json")
    seen_elsewhere = run_together(lambda: (SigningFailure.objects.count(),
                                           AuditEvent.objects.filter(action="signature.failed").count()))

    assert response.status_code == 403
    assert seen_elsewhere == [(1, 1)]


def test_two_wrong_passwords_at_once_both_count(live_db, make_article, drive):
    assignment = drive(make_article(), "in_review").assignments.order_by("pk").first()

    results = run_together(guess(assignment), guess(assignment))

    assert all(isinstance(r, ReauthenticationFailed) for r in results), results
    assert sorted(r.attempts_left for r in results) == [3, 4]
    assert SigningFailure.objects.count() == 2
    assert AuditEvent.objects.filter(action="signature.failed").count() == 2


def test_a_burst_of_guesses_with_one_attempt_left_gets_one_password_check(live_db, make_article, drive):
    assignment = drive(make_article(), "in_review").assignments.order_by("pk").first()
    for _ in range(4):
        with pytest.raises(ReauthenticationFailed):
            guess(assignment)()

    results = run_together(*[guess(assignment) for _ in range(6)])

    assert sorted(type(r).__name__ for r in results) == ["ReauthenticationFailed"] + ["SigningLocked"] * 5, results
    assert SigningFailure.objects.count() == 5
    locked = [r for r in results if isinstance(r, SigningLocked)]
    assert len({r.locked_until for r in locked}) == 1
