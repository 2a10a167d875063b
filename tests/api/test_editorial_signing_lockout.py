"""`POST /api/v1/editorial/assignments/{id}/review/` under the signing lockout: a wrong password
is 403 `reauthentication_failed` (audited `signature.failed`, path api), and once the limit is
reached every path answers 429 `signing_locked` with `Retry-After`, even for the right password."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from governance.models import AuditEvent, SigningFailure
from reviewers.models import Review
from tests.factories import PASSWORD

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def assignment(make_article, drive, board):
    return drive(make_article(), "in_review").assignments.get(reviewer=board[0])


def review(client, assignment, password, **extra):
    return client.post(f"/api/v1/editorial/assignments/{assignment.pk}/review/",
                       {"decision": "approve", "password": password}, format="json", **extra)


def test_it_audits_each_wrong_password_with_the_path_and_the_client_address(as_reviewer, assignment, board):
    response = review(as_reviewer(board[0]), assignment, "wrong", REMOTE_ADDR="192.0.2.44")

    assert response.status_code == 403
    body = response.json()
    assert (body["code"], body["rule"], body["attempts_left"]) == ("reauthentication_failed", "reauthentication", 4)
    event = AuditEvent.objects.get(action="signature.failed")
    assert (event.actor_username, event.article_id) == ("reviewer1", assignment.article_id)
    assert (event.data["path"], event.data["client_address"]) == ("api", "192.0.2.44")
    assert "wrong" not in str(event.data)
    assert not Review.objects.exists()


def test_it_answers_429_with_retry_after_once_locked_even_for_the_right_password(as_reviewer, assignment, board):
    client = as_reviewer(board[0])
    with time_machine.travel(NOON, tick=False) as clock:
        answers = [review(client, assignment, f"guess-{i}") for i in range(5)]
        clock.shift(dt.timedelta(minutes=3))

        locked = review(client, assignment, PASSWORD)

    assert [a.status_code for a in answers] == [403] * 5
    assert answers[-1].json()["locked_until"] == "2026-03-02T12:15:00+00:00"
    assert locked.status_code == 429
    body = locked.json()
    assert (body["code"], body["rule"]) == ("signing_locked", "signing_locked")
    assert body["locked_until"] == "2026-03-02T12:15:00+00:00"
    assert body["retry_after"] == 720
    assert locked["Retry-After"] == "720"
    assert "12:15" in body["detail"]
    assert not Review.objects.exists()
    assert SigningFailure.objects.count() == 5


def test_failures_in_the_admin_lock_the_api(client, as_reviewer, assignment, board):
    client.force_login(board[0].user)
    url = f"/admin/reviewers/reviewassignment/{assignment.pk}/change/"
    for _ in range(5):
        client.post(url, {"decision": "approve", "password": "wrong"})

    response = review(as_reviewer(board[0]), assignment, PASSWORD)

    assert response.status_code == 429
    assert {e.data["path"] for e in AuditEvent.objects.filter(action="signature.failed")} == {"admin"}


def test_it_documents_the_lockout_in_the_schema(db):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/editorial/assignments/{id}/review/"]["post"]

    assert {"201", "400", "401", "403", "404", "409", "429"} <= set(operation["responses"])
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert "signing_locked" in operation["description"]
    locked = operation["responses"]["429"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"locked_until", "retry_after", "rule"} <= set(schema["components"]["schemas"][locked]["properties"])


def test_the_failure_outlives_the_refusal(as_reviewer, assignment, board):
    # Were the failure recorded inside a transaction the refusal escapes, it would roll back with it
    # (here: its savepoint). That it is committed, seen by other connections, is shown on PostgreSQL in
    # tests/governance/workflow/test_signature_lockout_concurrency.py.
    response = review(as_reviewer(board[0]), assignment, "wrong")

    assert response.status_code == 403
    assert SigningFailure.objects.filter(guard__user=board[0].user).count() == 1
    assert AuditEvent.objects.filter(action="signature.failed").count() == 1
