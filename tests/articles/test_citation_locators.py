"""Pandoc's citation locators ([@key, p. 12]) and the supporting passages a revision gives for
its sources: part of the revision and its hash; shown in the rendered citation, the reference
list, the reviewer's page in the admin and the public page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from articles import content
from governance.workflow import services
from reviewers.models import ReviewAssignment
from tests.conftest import article_content

LOCATED = ("## What it is\n\nHeart failure means the heart cannot pump as well as the body needs "
           "[@trial2021, p. 1102]. Guidelines recommend four classes of medicine [@nice2018, table 2; @trial2021].\n")
PASSAGE = {"locator": "p. 1102", "quote": "Dapagliflozin reduced the risk of worsening heart failure."}


def located(**overrides):
    data = article_content(body_markdown=LOCATED, **overrides)
    data.references[0]["passages"] = [PASSAGE]
    return data


@pytest.mark.parametrize(("markdown", "html"), [
    ("A [@a, p. 12].", '<a href="#ref-1" class="citation" title="p. 12" rel="noopener noreferrer">1</a>'
                       '<span class="locator">(p12)</span>'),
    ("A [@a, table 2].", '<span class="locator">(table 2)</span>'),
    ("A [@a, section 4.1; @b].", '<span class="locator">(sec 4.1)</span>, <a href="#ref-2"'),
])
def test_it_renders_a_locator_after_the_number_as_the_ama_style_does(markdown, html):
    assert html in content.render(markdown, {"a": 1, "b": 2})


def test_it_still_reads_the_keys_of_located_citations():
    assert content.cited_keys("X [@a, p. 3] and [@{10.1/x(y)}, pp. 3-4; @b].") == ["a", "10.1/x(y)", "b"]
    assert content.cited_locators(["X [@a, p. 3] [@a, table 1] [@a, p. 3]"]) == {"a": ["p. 3", "table 1"]}


def test_a_locator_and_a_passage_are_part_of_the_revision_hash(make_article, writer, topic):
    plain = make_article(title="Located").current_revision
    with_locators = services.article_create(actor=writer, topic=topic,
                                            content=article_content(title="Located", body_markdown=LOCATED))
    with_passage = services.article_create(actor=writer, topic=topic, content=located(title="Located"))

    hashes = {plain.content_hash, with_locators.current_revision.content_hash, with_passage.current_revision.content_hash}
    assert len(hashes) == 3
    revision = with_passage.current_revision
    citation = revision.citations.get(key="trial2021")
    assert citation.passages == [PASSAGE]
    assert services.stored_content_check(revision, list(revision.citations.all()), []) == "verified"
    assert "Dapagliflozin reduced the risk" in revision.body_html  # beside the claim, in the citation's title


def test_it_refuses_a_passage_without_its_quote_naming_it(make_article):
    from governance.workflow.exceptions import ContentInvalid

    data = located()
    data.references[0]["passages"] = [{"locator": "p. 3", "quote": " "}]
    with pytest.raises(ContentInvalid) as invalid:
        make_article(body_markdown=LOCATED, references=data.references)

    assert list(invalid.value.errors) == ["references[0].passages[0].quote"]


def test_the_reviewer_sees_the_locator_and_the_passage_in_the_admin(client, writer, topic, drive, board):
    article = drive(services.article_create(actor=writer, topic=topic, content=located()), "in_review")
    assignment = ReviewAssignment.objects.get(article=article, reviewer=board[0])
    client.force_login(board[0].user)

    html = client.get(reverse("admin:reviewers_reviewassignment_change", args=[assignment.pk])).content.decode()

    assert '<span class="locator">(p1102)</span>' in html
    assert "“Dapagliflozin reduced the risk of worsening heart failure.”" in html


def test_the_public_page_shows_the_locators_and_the_passage(client, writer, topic, drive):
    article = drive(services.article_create(actor=writer, topic=topic, content=located()), "published")

    html = client.get(f"/articles/{article.slug}/").content.decode()

    assert '<span class="locator">(table 2)</span>' in html
    assert "Cited at: p. 1102." in html
    assert "“Dapagliflozin reduced the risk of worsening heart failure.”" in html


def test_the_editorial_api_takes_and_gives_the_passages(writer, topic):
    from tests.api.conftest import token_client

    api = token_client(writer)
    references = [dict(r) for r in located().references]
    response = api.post("/api/v1/editorial/articles/", {
        "title": "Located", "topic": topic.slug, "body_markdown": LOCATED, "references": references}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["references"][0]["passages"] == [PASSAGE]
