"""Related articles changed after creation, seen from the APIs: the editorial
`PUT /api/v1/editorial/articles/{slug}/related/` (through `services.article_set_related`, 409 with
the rule, 400 naming `related`) and the public detail, whose `related` list and ETag follow."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from governance.models import AuditEvent
from governance.workflow import services, snapshots
from tests.api.conftest import token_client
from tests.conftest import article_content

DETAIL = "/api/v1/articles/{}/"
RELATED = "/api/v1/editorial/articles/{}/related/"


@pytest.fixture
def pair(make_article, drive):
    a = drive(make_article(title="Living with heart failure"), "published")
    b = drive(make_article(title="Heart failure medicines"), "published")
    return a, b


def put(client, slug, related, **body):
    return client.put(RELATED.format(slug), {"related": related, **body}, format="json")


def test_it_replaces_the_related_articles_and_answers_the_article(pair, writer):
    a, b = pair

    response = put(token_client(writer), a.slug, [b.slug], reason="Cross-link the medicines page")

    assert response.status_code == 200, response.json()
    assert response.json()["related"] == [b.slug] and response.json()["slug"] == a.slug
    assert list(a.related.all()) == [b]
    event = AuditEvent.objects.get(article_id=a.pk, action="article.set_related")
    assert event.reason == "Cross-link the medicines page" and event.data["after"] == [b.slug]


def test_it_unlinks_everything_with_an_empty_list(pair, writer):
    a, b = pair
    services.article_set_related(article=a, actor=writer, related=[b])

    response = put(token_client(writer), a.slug, [])

    assert response.status_code == 200 and response.json()["related"] == []
    assert list(a.related.all()) == []


def test_it_shows_the_new_list_on_the_public_detail_with_a_new_etag(site, pair, writer):
    a, b = pair
    services.article_edit(article=b, actor=writer, content=article_content(title="DRAFT unreviewed title"))
    first = site.get(DETAIL.format(a.slug))
    assert first.json()["related"] == []

    assert put(token_client(writer), a.slug, [b.slug]).status_code == 200

    response = site.get(DETAIL.format(a.slug))
    assert response.json()["related"] == [snapshots.related_entry(b.slug, "Heart failure medicines")]
    assert "DRAFT unreviewed title" not in response.content.decode()
    assert response["ETag"] != first["ETag"]
    assert site.get(DETAIL.format(a.slug), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    # and the other end, the relation being symmetrical
    assert [r["slug"] for r in site.get(DETAIL.format(b.slug)).json()["related"]] == [a.slug]


def test_it_refuses_relating_the_article_to_itself_with_the_rule(pair, writer):
    a, b = pair

    response = put(token_client(writer), a.slug, [b.slug, a.slug])

    assert response.status_code == 409
    assert response.json()["rule"] == "related_not_self" and response.json()["code"] == "transition_refused"
    assert list(a.related.all()) == []


def test_it_refuses_linking_an_article_that_is_not_live(pair, make_article, chief):
    a, _ = pair
    draft = make_article(title="Heart failure and exercise")

    response = put(token_client(chief), a.slug, [draft.slug])

    assert response.status_code == 409 and response.json()["rule"] == "related_must_be_live"


def test_it_names_the_field_for_an_unknown_slug(pair, writer):
    a, b = pair

    response = put(token_client(writer), a.slug, [b.slug, "no-such-article"])

    assert response.status_code == 400
    assert "related" in response.json()["errors"] and "no-such-article" in response.json()["errors"]["related"][0]
    assert list(a.related.all()) == []


def test_it_does_not_reveal_a_draft_the_writer_may_not_see(pair, make_article, colleague, writer):
    a, _ = pair
    hidden = make_article(title="A colleague's draft", actor=colleague)

    response = put(token_client(writer), a.slug, [hidden.slug])

    assert response.status_code == 400 and "related" in response.json()["errors"]


def test_it_answers_400_for_a_body_without_the_list(pair, writer):
    a, _ = pair
    response = token_client(writer).put(RELATED.format(a.slug), {"reason": "x"}, format="json")
    assert response.status_code == 400 and "related" in response.json()["errors"]


def test_it_is_404_for_an_article_the_writer_may_not_see(pair, colleague):
    a, b = pair
    assert put(token_client(colleague), a.slug, [b.slug]).status_code == 404


def test_it_is_403_for_a_board_member_who_may_see_but_not_edit(make_article, drive, board):
    a = drive(make_article(title="Living with heart failure"), "in_review")
    b = drive(make_article(title="Heart failure medicines"), "published")

    response = put(token_client(board[0].user), a.slug, [b.slug])

    assert response.status_code == 403 and response.json()["rule"] == "may_edit"
    assert list(a.related.all()) == []


def test_it_is_documented_in_the_schema(db):
    operation = APIClient().get("/api/schema/", {"format": "json"}).json()["paths"][
        "/api/v1/editorial/articles/{slug}/related/"]["put"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(operation["responses"])
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/RelatedInputRequest")
