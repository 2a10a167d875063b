"""The e-signature's password re-check cannot be guessed: every failure is audited
(`signature.failed`, never the password), and after IMPRIMATUR_SIGNATURE_FAILURE_LIMIT failures
within IMPRIMATUR_SIGNATURE_FAILURE_WINDOW_MINUTES signing is locked for that user, on every path,
until the window passes or the managing editor unlocks it. Kept in the database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from governance.models import AuditEvent, SigningFailure
from governance.workflow import audit, services, signatures
from governance.workflow.exceptions import GovernanceError, NotPermitted, ReauthenticationFailed, SigningLocked
from reviewers.models import Review
from tests.factories import PASSWORD

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
WRONG = "Tr0ub4dor&3-not-mine"


@pytest.fixture
def assignments(make_article, drive, board):
    """Two articles under review, each assigned to reviewer1 (and reviewer2)."""
    first = drive(make_article(title="Living with heart failure"), "in_review")
    second = drive(make_article(title="Heart failure medicines"), "in_review")
    return [article.assignments.get(reviewer=board[0]) for article in (first, second)]


def sign(assignment, password, *, path="api", client_address="203.0.113.9"):
    return services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                                  password=password, path=path, client_address=client_address)


def fail(assignment, times: int = 1, **kwargs) -> list[ReauthenticationFailed]:
    refusals = []
    for _ in range(times):
        with pytest.raises(ReauthenticationFailed) as refused:
            sign(assignment, WRONG, **kwargs)
        refusals.append(refused.value)
    return refusals


def test_it_audits_a_failed_reauthentication_without_the_password(assignments):
    assignment = assignments[0]

    with time_machine.travel(NOON, tick=False):
        fail(assignment, path="admin", client_address="198.51.100.7")

    event = AuditEvent.objects.get(action="signature.failed")
    assert event.actor_username == "reviewer1"
    assert (event.object_type, event.object_id) == ("reviewers.reviewassignment", str(assignment.pk))
    assert event.article_id == assignment.article_id
    assert event.at == NOON
    assert event.data["path"] == "admin"
    assert event.data["client_address"] == "198.51.100.7"
    assert event.data["failures_in_window"] == 1
    stored = json.dumps([list(AuditEvent.objects.values_list()), list(SigningFailure.objects.values_list())],
                        default=str)
    assert WRONG not in stored
    assert not Review.objects.exists()
    assert audit.verify().ok


def test_it_locks_signing_after_the_limit_even_for_the_right_password(assignments):
    assignment = assignments[0]
    with time_machine.travel(NOON, tick=False) as clock:
        refusals = []
        for _ in range(5):
            refusals += fail(assignment)
            clock.shift(dt.timedelta(minutes=1))

        with pytest.raises(SigningLocked) as locked:
            sign(assignment, PASSWORD)

    assert [r.attempts_left for r in refusals] == [4, 3, 2, 1, 0]
    assert refusals[-1].locked_until == NOON + dt.timedelta(minutes=15)
    assert (locked.value.rule, locked.value.code, locked.value.http_status) == ("signing_locked", "signing_locked", 429)
    # locked until the first failure leaves the 15-minute window: 12:15, 10 minutes after 12:05
    assert locked.value.locked_until == NOON + dt.timedelta(minutes=15)
    assert locked.value.retry_after == 600
    assert not Review.objects.exists()
    assert AuditEvent.objects.filter(action="signature.failed").count() == 5  # a locked attempt checks no password


def test_it_locks_the_user_on_every_assignment_and_every_path(assignments):
    first, second = assignments
    fail(first, 5, path="admin")

    with pytest.raises(SigningLocked):
        sign(second, PASSWORD, path="api")


def test_it_unlocks_when_the_window_has_passed(assignments):
    assignment = assignments[0]
    with time_machine.travel(NOON, tick=False) as clock:
        fail(assignment, 5)
        clock.shift(dt.timedelta(minutes=15, seconds=1))

        review = sign(assignment, PASSWORD)

    assert review.decision == Review.Decision.APPROVED


def test_it_counts_only_the_failures_within_the_window(assignments):
    assignment = assignments[0]
    with time_machine.travel(NOON, tick=False) as clock:
        fail(assignment, 4)
        clock.shift(dt.timedelta(minutes=16))
        refusals = fail(assignment, 4)

        review = sign(assignment, PASSWORD)

    assert refusals[-1].attempts_left == 1
    assert review.pk is not None


def test_a_successful_signature_erases_no_failure(assignments):
    first, second = assignments
    fail(first, 4)
    sign(first, PASSWORD)

    fail(second)  # the fifth failure in the window, a signature in between

    with pytest.raises(SigningLocked):
        sign(second, PASSWORD)
    assert AuditEvent.objects.filter(action="signature.failed").count() == 5
    assert SigningFailure.objects.count() == 5


def test_it_locks_only_the_user_who_failed(assignments, make_article, drive, board):
    fail(assignments[0], 5)
    other = assignments[0].article.assignments.get(reviewer=board[1])

    review = services.review_record(assignment=other, actor=board[1].user, decision="approve", password=PASSWORD)

    assert review.reviewer == board[1]


def test_it_takes_the_limit_and_the_window_from_the_settings(assignments, settings):
    settings.IMPRIMATUR_SIGNATURE_FAILURE_LIMIT = 2
    settings.IMPRIMATUR_SIGNATURE_FAILURE_WINDOW_MINUTES = 60
    assignment = assignments[0]
    with time_machine.travel(NOON, tick=False) as clock:
        fail(assignment, 2)
        clock.shift(dt.timedelta(minutes=59))
        with pytest.raises(SigningLocked) as locked:
            sign(assignment, PASSWORD)

    assert locked.value.locked_until == NOON + dt.timedelta(minutes=60)


def test_it_tells_when_signing_unlocks(assignments):
    assignment = assignments[0]
    user = assignment.reviewer.user
    with time_machine.travel(NOON, tick=False):
        assert signatures.signing_locked_until(user) is None
        fail(assignment, 5)
        assert signatures.signing_locked_until(user) == NOON + dt.timedelta(minutes=15)


def test_the_managing_editor_unlocks_signing_audited(assignments, chief):
    assignment = assignments[0]
    user = assignment.reviewer.user
    with time_machine.travel(NOON, tick=False) as clock:
        fail(assignment, 5)
        clock.shift(dt.timedelta(minutes=2))

        signatures.signing_unlock(actor=chief, user=user, reason="Phoned the reviewer: her caps lock was on.")
        review = sign(assignment, PASSWORD)

    assert review.pk is not None
    event = AuditEvent.objects.get(action="signature.unlock")
    assert event.actor_username == "chief"
    assert event.reason == "Phoned the reviewer: her caps lock was on."
    assert event.data["user"] == "reviewer1"
    assert event.data["failures_counted"] == 5
    assert event.data["locked_until"] == (NOON + dt.timedelta(minutes=15)).isoformat()
    assert SigningFailure.objects.count() == 5  # the failures stay on record
    assert audit.verify().ok


def test_unlocking_restarts_the_count(assignments, chief):
    assignment = assignments[0]
    fail(assignment, 5)
    signatures.signing_unlock(actor=chief, user=assignment.reviewer.user)

    refusals = fail(assignment, 5)

    assert [r.attempts_left for r in refusals] == [4, 3, 2, 1, 0]
    with pytest.raises(SigningLocked):
        sign(assignment, PASSWORD)


def test_nobody_else_unlocks_signing(assignments, board, writer):
    assignment = assignments[0]
    fail(assignment, 5)

    for actor in (assignment.reviewer.user, board[1].user, writer):
        with pytest.raises(NotPermitted) as refused:
            signatures.signing_unlock(actor=actor, user=assignment.reviewer.user)
        assert refused.value.rule == "may_unlock_signing"
    with pytest.raises(SigningLocked):
        sign(assignment, PASSWORD)


def test_the_managing_editor_does_not_unlock_their_own_signing(chief):
    with pytest.raises(NotPermitted):
        signatures.signing_unlock(actor=chief, user=chief)


def test_it_refuses_to_unlock_a_signer_who_is_not_locked(assignments, chief):
    fail(assignments[0], 4)

    with pytest.raises(GovernanceError) as refused:
        signatures.signing_unlock(actor=chief, user=assignments[0].reviewer.user)

    assert refused.value.rule == "signing_locked"
    assert not AuditEvent.objects.filter(action="signature.unlock").exists()


def test_someone_not_assigned_is_refused_before_any_password_check(assignments, board):
    with pytest.raises(NotPermitted):
        services.review_record(assignment=assignments[0], actor=board[2].user, decision="approve", password=WRONG)

    assert not AuditEvent.objects.filter(action="signature.failed").exists()
