"""The public read API serves response texts stored at publication (PublishedSnapshot.rendered_*,
ChangeEvent.entry_json): the bytes DRF's JSONRenderer renders for the documents, read with one
statement per request."""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from rest_framework.renderers import JSONRenderer

from articles.models import SNAPSHOT_LIST_FIELDS, PublishedSnapshot, api_json, rendered_snapshot
from governance.models import ChangeEvent
from governance.workflow import services

DETAIL = "/api/v1/articles/{}/"
RENDERED = ["rendered_document", "rendered_variants", "rendered_jsonld", "rendered_list_item"]


@pytest.fixture
def catalogue(make_article, drive):
    """Three published articles, one with a patient variant, and a draft."""
    articles = [drive(make_article(title=f"Article {i}"), "published") for i in range(2)]
    articles.append(drive(make_article(title="Asthma in adults", variants=[
        services.VariantInput("patient", "Breathe slowly [@trial2021] [@nice2018].")]), "published"))
    drive(make_article(title="A draft"), "in_review")
    return articles


def _rendered(data) -> bytes:
    return JSONRenderer().render(data)


def test_it_renders_what_drf_renders(db):
    data = {"title": "Ménière\u2019s disease\u2028next", "n": [1, 2.5, None, True], "nested": {"é": "ü"}}
    assert api_json(data).encode() == JSONRenderer().render(data)


def test_it_stores_the_response_texts_at_publication(catalogue):
    snapshot = catalogue[2].live_snapshot
    assert json.loads(snapshot.rendered_document) == snapshot.document
    assert "review_status" not in snapshot.document
    assert {k: json.loads(v) for k, v in snapshot.rendered_variants.items()} == snapshot.variant_documents
    assert set(snapshot.rendered_variants) == {"patient"}
    assert {k: json.loads(v) for k, v in snapshot.rendered_jsonld.items()} == snapshot.jsonld
    item = json.loads(snapshot.rendered_list_item)
    assert list(item) == ["slug", *SNAPSHOT_LIST_FIELDS]
    assert item["slug"] == catalogue[2].slug and item["title"] == "Asthma in adults"
    entry = ChangeEvent.objects.filter(slug=catalogue[2].slug).get()
    assert json.loads(entry.entry_json) == {"type": "published", "slug": catalogue[2].slug,
                                            "at": entry.at.isoformat(), "revision": entry.revision}


def _approved(document: dict) -> dict:
    return {**document, "review_status": "approved", "review_reason": None}


def _drf_renders(response, expected) -> None:
    # What DRF's JSONRenderer renders for the document (compact, UTF-8, its escapes), in the order
    # the text was stored (PostgreSQL's jsonb documents come back in their own key order).
    assert json.loads(response.content) == expected
    assert response.content == _rendered(json.loads(response.content))


def test_it_serves_the_bytes_drf_renders_for_the_documents(site, catalogue):
    plain, variant = (PublishedSnapshot.objects.get(pk=a.live_snapshot_id) for a in (catalogue[0], catalogue[2]))
    detail = site.get(DETAIL.format(catalogue[0].slug))
    patient = site.get(DETAIL.format(catalogue[2].slug), {"audience": "patient"})
    caregiver = site.get(DETAIL.format(catalogue[2].slug), {"audience": "caregiver"})  # no such variant
    jsonld = site.get(DETAIL.format(catalogue[2].slug), HTTP_ACCEPT="application/ld+json")
    patient_ld = site.get(DETAIL.format(catalogue[2].slug), {"format": "jsonld", "audience": "patient"})
    listed = site.get("/api/v1/articles/", {"page_size": 2})
    feed = site.get("/api/v1/changes/", {"page_size": 2})

    _drf_renders(detail, _approved(plain.document))
    assert detail.content == plain.rendered_document[:-1].encode() + b',"review_status":"approved","review_reason":null}'
    _drf_renders(patient, _approved(variant.variant_documents["patient"]))
    _drf_renders(caregiver, _approved(variant.document))
    _drf_renders(jsonld, variant.jsonld["general"])
    assert jsonld["Content-Type"] == "application/ld+json"
    _drf_renders(patient_ld, variant.jsonld["patient"])
    items = [{"slug": a.slug, **{name: a.live_snapshot.document[name] for name in SNAPSHOT_LIST_FIELDS},
              "review_status": "approved", "review_reason": None}
             for a in sorted(catalogue, key=lambda a: a.slug)[:2]]
    _drf_renders(listed, {"next": listed.json()["next"], "previous": None, "results": items})
    events = list(ChangeEvent.objects.order_by("seq")[:2])
    _drf_renders(feed, {"results": [{"seq": e.seq, **json.loads(e.entry_json)} for e in events],
                        "next_cursor": feed.json()["next_cursor"]})
    assert detail["Allow"] == "GET, HEAD, OPTIONS" and detail["Vary"] == "Accept, Authorization"
    assert detail["Content-Type"] == "application/json"


def test_it_reads_each_hot_request_with_one_statement(site, catalogue, django_assert_num_queries):
    slug, variant_slug = catalogue[0].slug, catalogue[2].slug
    etag = site.get(DETAIL.format(slug))["ETag"]  # the key verified (one look-up), then remembered
    first = site.get("/api/v1/articles/", {"page_size": 1})
    requests = [(DETAIL.format(slug), None, {}), (DETAIL.format(variant_slug), {"audience": "patient"}, {}),
                (DETAIL.format(variant_slug), {"format": "jsonld"}, {}),
                (DETAIL.format(slug), None, {"HTTP_IF_NONE_MATCH": etag}),
                ("/api/v1/articles/", {"page_size": 1}, {"HTTP_IF_NONE_MATCH": first["ETag"]}),
                (first.json()["next"], None, {}), ("/api/v1/changes/", {"page_size": 2}, {})]
    for url, data, headers in requests:
        with django_assert_num_queries(1):
            assert site.get(url, data, **headers).status_code in (200, 304), (url, data, headers)
    with django_assert_num_queries(2):  # the stale copy's ETag, then the text
        assert site.get(DETAIL.format(slug), HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_it_refuses_what_it_does_not_serve(site, catalogue, client, settings):
    slug = catalogue[0].slug
    assert site.get(DETAIL.format(slug), HTTP_ACCEPT="text/html").status_code == 406
    assert site.get(DETAIL.format(slug), {"format": "json"}, HTTP_ACCEPT="application/ld+json").status_code == 406
    assert site.get(DETAIL.format(slug), {"audience": "everyone"}).status_code == 400
    assert site.get("/api/v1/articles/", {"page_size": "0"}).status_code == 400
    assert site.get("/api/v1/changes/", {"since": "bm90OmEtY3Vyc29y"}).status_code == 400
    assert client.get(DETAIL.format(slug), HTTP_AUTHORIZATION="Api-Key nope.nope").status_code == 401
    assert client.get(DETAIL.format(slug)).status_code == 401
    settings.IMPRIMATUR_PUBLIC_API_ANONYMOUS = True
    assert client.get(DETAIL.format(slug)).status_code == 200


def _forget_texts() -> None:
    PublishedSnapshot.objects.update(rendered_document="", rendered_variants={}, rendered_jsonld={},
                                     rendered_list_item="")
    ChangeEvent.objects.update(entry_json="")


def _parsed_texts(snapshot: PublishedSnapshot) -> dict:
    return {"document": json.loads(snapshot.rendered_document), "list_item": snapshot.rendered_list_item,
            "variants": {k: json.loads(v) for k, v in snapshot.rendered_variants.items()},
            "jsonld": {k: json.loads(v) for k, v in snapshot.rendered_jsonld.items()}}


def test_its_migrations_fill_the_texts_of_existing_rows(catalogue):
    # The same documents (read back from jsonb, their keys may come in another order) and list items.
    wanted = {snapshot.pk: _parsed_texts(snapshot) for snapshot in PublishedSnapshot.objects.all()}
    entries = dict(ChangeEvent.objects.values_list("seq", "entry_json"))
    _forget_texts()
    editor = SimpleNamespace(connection=connection)

    importlib.import_module("articles.migrations.0004_publishedsnapshot_rendered").render_existing(apps, editor)
    importlib.import_module("governance.migrations.0004_changeevent_entry_json").render_existing(apps, editor)

    assert {snapshot.pk: _parsed_texts(snapshot) for snapshot in PublishedSnapshot.objects.all()} == wanted
    assert dict(ChangeEvent.objects.values_list("seq", "entry_json")) == entries
    snapshot = PublishedSnapshot.objects.get(pk=catalogue[2].live_snapshot_id)
    assert snapshot.rendered_document == rendered_snapshot(snapshot.document, snapshot.variant_documents,
                                                           snapshot.jsonld)["rendered_document"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_it_prepares_the_hot_queries_once_per_connection(site, catalogue, settings):
    from django.test.utils import CaptureQueriesContext

    url = DETAIL.format(catalogue[1].slug)
    site.get(url)  # the key verified and cached; the statement prepared (if not yet) with its first EXECUTE
    with CaptureQueriesContext(connection) as queries:
        first = site.get(url)
        second = site.get(DETAIL.format(catalogue[0].slug))
    assert [q["sql"].split(" ", 1)[0] for q in queries.captured_queries] == ["EXECUTE", "EXECUTE"]
    assert first.json()["slug"] == catalogue[1].slug and second.json()["slug"] == catalogue[0].slug

    settings.IMPRIMATUR_API_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as queries:
        again = site.get(url)
    assert [q["sql"].split(" ", 1)[0] for q in queries.captured_queries] == ["SELECT"]
    assert again.content == first.content
