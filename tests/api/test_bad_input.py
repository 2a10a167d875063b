"""Bad input never answers 500 on the API and never breaks the next request: control characters in
any query parameter (decoded cursors included) are a 400 naming the parameter, JSON nested too deep
is a 400, a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, all in the contract's error shape."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection

from tests.api.test_editorial_api import draft_payload

LIST = "/api/v1/articles/"


def _cursor(position: str) -> str:
    """A cursor as DRF's CursorPagination encodes one (base64 of its query string)."""
    return base64.b64encode(f"p={position}".encode()).decode()


def _assert_refused(response, name: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) >= {"detail", "code", "errors"}
    assert name in body["errors"], body
    if name.isprintable():
        assert body["detail"].startswith(f"{name}: ")


@pytest.fixture
def three_live(make_article, drive):
    return [drive(make_article(title=f"Live {i}"), "published") for i in range(3)]


def test_it_refuses_a_nul_in_a_decoded_cursor_and_serves_the_next_page(site, three_live):
    first = site.get(LIST, {"page_size": 1}).json()

    refused = site.get(LIST, {"page_size": 1, "cursor": _cursor("\x00")})
    following = site.get(first["next"])

    _assert_refused(refused, "cursor")
    assert following.status_code == 200
    assert following.json()["results"][0]["slug"] == three_live[1].slug


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\t", "\n", "\r"])
@pytest.mark.parametrize(("path", "name"), [
    (LIST, "cursor"), (LIST, "q"), (LIST, "topic"), (LIST, "updated_since"), (LIST, "unknown"),
    ("/api/v1/changes/", "since"), ("/api/v1/topics/", "anything"),
    ("/api/v1/editorial/articles/", "cursor"),
])
def test_it_refuses_control_characters_in_every_query_parameter(site, as_chief, three_live, path, name, char):
    client = as_chief if "/editorial/" in path else site

    _assert_refused(client.get(path, {name: f"a{char}b"}), name)


def test_it_refuses_a_control_character_in_a_parameter_name(site, db):
    _assert_refused(site.get(LIST + "?bad%01name=1"), "bad\x01name")


def test_it_refuses_control_characters_in_a_decoded_cursor_of_the_editorial_list(as_chief, three_live):
    _assert_refused(as_chief.get("/api/v1/editorial/articles/", {"cursor": _cursor("a\x00")}), "cursor")


@pytest.mark.postgres
def test_a_refused_cursor_leaves_the_prepared_statements_of_the_connection_usable(site, three_live, settings):
    # Bad request, then good requests, on the same connection: each hot statement the bad one
    # would have used is prepared (or not) as the session really has it.
    assert connection.vendor == "postgresql"
    first = site.get(LIST, {"page_size": 1}).json()
    for _ in range(2):
        _assert_refused(site.get(LIST, {"page_size": 1, "cursor": _cursor("\x00")}), "cursor")
        page = site.get(first["next"])
        assert page.status_code == 200
        assert page.json()["results"][0]["slug"] == three_live[1].slug


@pytest.mark.postgres
def test_a_failed_execution_never_leaves_a_statement_believed_prepared(site, three_live):
    """The statement cache itself: an execution that fails (here a parameter PostgreSQL cannot take,
    refused by psycopg before anything is sent) marks nothing prepared, and the next one works."""
    from django.db import DataError

    from articles.api import public, statements

    sql = public._list_sql(True, 2)
    with pytest.raises(DataError):
        statements.hot_query("test_list_after", sql, ["\x00"])
    assert [row[0] for row in statements.hot_query("test_list_after", sql, [three_live[0].slug])] == [
        three_live[1].slug, three_live[2].slug]
    # And one that failed on the server after its PREPARE ran: the statement exists and is used.
    with pytest.raises(DataError), connection.cursor() as cursor:
        cursor.execute("SAVEPOINT bad_cast")
        try:
            statements.hot_query("test_changes", "SELECT seq FROM governance_changeevent WHERE seq > %s::bigint",
                                 ["99999999999999999999"])
        finally:
            cursor.execute("ROLLBACK TO SAVEPOINT bad_cast")
    assert statements.hot_query("test_changes", "SELECT seq FROM governance_changeevent WHERE seq > %s::bigint",
                                ["0"]) is not None


def _nested(depth: int) -> str:
    return '{"title": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [50, 100_000])
def test_it_refuses_json_nested_too_deep_with_400(as_writer, topic, depth):
    response = as_writer.generic("POST", "/api/v1/editorial/articles/", _nested(depth), content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) >= {"detail", "code", "errors"}
    assert "nested" in body["detail"]


def test_it_still_accepts_a_normal_article(as_writer, topic):
    response = as_writer.post("/api/v1/editorial/articles/", draft_payload(), format="json")

    assert response.status_code == 201


def test_it_answers_a_body_over_the_limit_with_413_in_json(as_writer, topic, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps(draft_payload(body_markdown="x" * 20_000))

    response = as_writer.generic("POST", "/api/v1/editorial/articles/", body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    payload = response.json()
    assert payload["code"] == "request_too_large"
    assert set(payload) >= {"detail", "code", "errors"}
    assert "10,000" in payload["detail"]


def test_it_answers_a_form_body_over_the_limit_with_413_in_json_on_the_api(as_writer, topic, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000

    response = as_writer.post("/api/v1/editorial/articles/", {"title": "x" * 5_000}, format="multipart")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_it_names_the_reference_limit_in_the_editorial_api(as_writer, topic, settings):
    settings.IMPRIMATUR_MAX_REFERENCES_PER_REVISION = 1
    response = as_writer.post("/api/v1/editorial/articles/", draft_payload(), format="json")

    assert response.status_code == 400
    assert "the limit is 1" in response.json()["errors"]["references"][0]
