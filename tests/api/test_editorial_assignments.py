"""GET /api/v1/editorial/assignments/: a reviewer finds the assignments they must sign (their
own), the managing editor every one; newest first, paginated, filterable by status. A writer
who sits on no board gets an empty list (the list is "your assignments": they have none)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.workflow import services
from reviewers.models import ReviewAssignment

URL = "/api/v1/editorial/assignments/"


@pytest.fixture
def assignments(make_article, drive, board, chief):
    """Three articles in review by reviewer1 and reviewer2, and one by reviewer2 and reviewer3;
    reviewer1's first assignment cancelled."""
    articles = [drive(make_article(title=f"Assigned {i}"), "in_review") for i in range(3)]
    articles.append(drive(make_article(title="Assigned 3"), "in_review", reviewers=board[1:]))
    first = ReviewAssignment.objects.get(article=articles[0], reviewer=board[0])
    services.assignment_cancel(assignment=first, actor=chief, reason="Reassigned")
    return articles


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def test_a_reviewer_lists_their_own_assignments_newest_first(as_reviewer, board, assignments):
    response = as_reviewer(board[0]).get(URL)

    mine = list(ReviewAssignment.objects.filter(reviewer=board[0]).order_by("-pk"))
    assert ids(response) == [a.pk for a in mine]
    assert len(mine) == 3
    item = response.json()["results"][0]
    assert set(item) == {"id", "article", "reviewer", "status", "respond_by", "due_at"}
    assert item == {"id": mine[0].pk, "article": mine[0].article.slug, "reviewer": "reviewer1",
                    "status": "open", "respond_by": None, "due_at": mine[0].due_at.isoformat()}


def test_the_managing_editor_lists_every_assignment(as_chief, assignments):
    assert sorted(ids(as_chief.get(URL))) == sorted(ReviewAssignment.objects.values_list("pk", flat=True))
    assert len(ids(as_chief.get(URL))) == 8


def test_it_filters_by_status(as_reviewer, as_chief, board, assignments):
    cancelled = ReviewAssignment.objects.get(status="cancelled")
    assert ids(as_reviewer(board[0]).get(URL, {"status": "cancelled"})) == [cancelled.pk]
    assert len(ids(as_reviewer(board[0]).get(URL, {"status": "open"}))) == 2
    assert ids(as_reviewer(board[2]).get(URL, {"status": "cancelled"})) == []
    assert len(ids(as_chief.get(URL, {"status": "open"}))) == 7


def test_an_unknown_status_is_a_400_naming_the_parameter(as_chief, assignments):
    response = as_chief.get(URL, {"status": "lost"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]
    assert response.json()["detail"].startswith("status:")


def test_a_writer_off_the_board_gets_an_empty_list(as_writer, assignments):
    response = as_writer.get(URL)

    assert response.status_code == 200
    assert response.json()["results"] == [] and response.json()["next"] is None


def test_it_pages_with_a_cursor(as_chief, assignments):
    seen, url = [], f"{URL}?page_size=3"
    while url:
        response = as_chief.get(url)
        seen += ids(response)
        url = response.json()["next"]
    assert seen == list(ReviewAssignment.objects.order_by("-pk").values_list("pk", flat=True))
    assert as_chief.get(URL, {"page_size": "0"}).status_code == 400
    assert as_chief.get(URL, {"cursor": "bm9wZQ"}).status_code == 400


def test_the_queries_do_not_grow_with_the_number_of_assignments(as_reviewer, make_article, drive, board):
    def count() -> tuple[int, int]:
        client = as_reviewer(board[0])
        client.get(URL)  # the token and groups are read once per request either way
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"page_size": 100})
        return len(response.json()["results"]), len(queries)

    drive(make_article(title="Few 0"), "in_review")
    few, few_queries = count()
    for i in range(1, 12):
        drive(make_article(title=f"Few {i}"), "in_review")
    many, many_queries = count()
    assert (few, many) == (1, 12)
    assert many_queries == few_queries


def test_it_is_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"status", "cursor", "page_size"}
    status = next(p for p in operation["parameters"] if p["name"] == "status")
    assert set(status["schema"]["enum"]) == set(ReviewAssignment.Status.values)
    assert {"200", "400", "401", "403"} <= set(operation["responses"])


def test_due_dates_are_timestamps(as_chief, assignments):
    due = as_chief.get(URL).json()["results"][0]["due_at"]
    assert dt.datetime.fromisoformat(due) > timezone.now()
