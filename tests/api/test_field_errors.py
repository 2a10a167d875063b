"""Every 400 of the API names its fields in one shape: `{"detail", "code", "errors"}` where
`errors` is flat, `{"references[0].authors[1]": ["…"]}` — a dotted path with list indices in
brackets, never DRF's nested lists and dicts — whichever layer found the error (a serializer,
a service's ContentInvalid, a query parameter)."""

from __future__ import annotations

import re

import pytest

from tests.api.test_editorial_api import REFERENCES, draft_payload

# A field name, then `[n]` indices and `.name` parts.
FLAT_KEY = re.compile(r"[a-z_]+(\[\d+\])*(\.[a-z_]+(\[\d+\])*)*")


def assert_flat_errors(response, *keys: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    errors = body["errors"]
    assert isinstance(errors, dict) and errors
    for key, messages in errors.items():
        assert FLAT_KEY.fullmatch(key), key
        assert isinstance(messages, list) and messages and all(isinstance(m, str) and m for m in messages), messages
    assert set(keys) <= set(errors), errors
    first, messages = next(iter(errors.items()))
    assert body["detail"] == f"{first}: {messages[0]}"
    return errors


def test_a_bad_item_of_a_list_inside_a_list_is_named_with_both_indices(as_writer, topic):
    references = [REFERENCES[0], {**REFERENCES[1], "authors": ["NICE", "x" * 201]}]
    response = as_writer.post("/api/v1/editorial/articles/", draft_payload(references=references), format="json")
    errors = assert_flat_errors(response, "references[1].authors[1]")
    assert "200" in errors["references[1].authors[1]"][0]


def test_serializer_and_service_errors_share_the_shape(as_writer, topic):
    """A serializer's error (a kind it does not know) and a service's (a DOI it cannot read)."""
    by_serializer = as_writer.post("/api/v1/editorial/articles/", draft_payload(
        references=[{**REFERENCES[0], "kind": "rumour"}, REFERENCES[1]]), format="json")
    by_service = as_writer.post("/api/v1/editorial/articles/", draft_payload(
        references=[{**REFERENCES[0], "doi": "not-a-doi"}, REFERENCES[1]]), format="json")
    assert_flat_errors(by_serializer, "references[0].kind")
    assert_flat_errors(by_service, "references[0].doi")


def test_a_reference_that_is_not_an_object_is_named_by_its_index(as_writer, topic):
    response = as_writer.post("/api/v1/editorial/articles/", draft_payload(references=[REFERENCES[0], "nice2018"]),
                              format="json")
    assert_flat_errors(response, "references[1]")
    not_a_list = as_writer.post("/api/v1/editorial/articles/", draft_payload(references="nice2018"), format="json")
    assert_flat_errors(not_a_list, "references")


def test_a_variant_and_a_related_slug_are_named_by_their_index(as_writer, as_chief, make_article, topic):
    variant = as_writer.post("/api/v1/editorial/articles/", draft_payload(
        variants=[{"audience": "patient", "body_markdown": "x"}, {"audience": "martian", "body_markdown": "y"}]),
        format="json")
    assert_flat_errors(variant, "variants[1].audience")
    article = make_article()
    related = as_chief.put(f"/api/v1/editorial/articles/{article.slug}/related/",
                           {"related": ["fine-slug", "not a slug!"]}, format="json")
    assert_flat_errors(related, "related[1]")


@pytest.mark.parametrize(("path", "body", "key"), [
    ("transitions/schedule/", {"publish_at": "next tuesday"}, "publish_at"),
    ("assignments/", {"reviewer": "reviewer1", "due_at": "soon"}, "due_at"),
    ("assignments/", {}, "reviewer"),
])
def test_editorial_actions_name_their_fields(as_chief, make_article, board, path, body, key):
    article = make_article()
    response = as_chief.post(f"/api/v1/editorial/articles/{article.slug}/{path}", body, format="json")
    assert_flat_errors(response, key)


@pytest.mark.parametrize(("path", "key"), [
    ("/api/v1/articles/?review_status=stale", "review_status"),
    ("/api/v1/articles/?page_size=1000", "page_size"),
    ("/api/v1/articles/?updated_since=yesterday", "updated_since"),
    ("/api/v1/articles/?cursor=bm9wZQ", "cursor"),
    ("/api/v1/articles/some-article/?audience=martian", "audience"),
    ("/api/v1/changes/?since=bm9wZQ", "since"),
    ("/api/v1/editorial/articles/?page_size=0", "page_size"),
])
def test_query_parameters_are_named_in_the_same_shape(site, as_writer, path, key):
    client = as_writer if "/editorial/" in path else site
    assert_flat_errors(client.get(path), key)
