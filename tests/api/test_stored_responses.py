"""The public read API serves response texts stored at publication (PublishedSnapshot.rendered_*,
ChangeEvent.entry_json), on a fast path before DRF's machinery: same bytes and headers as DRF's
path, which still answers everything else."""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from articles.api import public
from articles.models import PublishedSnapshot, api_json, rendered_snapshot
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


def _drf_only(monkeypatch):
    monkeypatch.setattr(public.PublicView, "fast_path", False)


def _same(a, b) -> None:
    assert (a.status_code, a.content, dict(a.headers)) == (b.status_code, b.content, dict(b.headers))


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
    assert list(item) == ["slug", *public.LIST_FIELDS]
    assert item["slug"] == catalogue[2].slug and item["title"] == "Asthma in adults"
    entry = ChangeEvent.objects.filter(slug=catalogue[2].slug).get()
    assert json.loads(entry.entry_json) == {"type": "published", "slug": catalogue[2].slug,
                                            "at": entry.at.isoformat(), "revision": entry.revision}


def _requests(site, slug, variant_slug):
    etag = site.get(DETAIL.format(slug))["ETag"]
    ld_etag = site.get(DETAIL.format(slug), HTTP_ACCEPT="application/ld+json")["ETag"]
    first = site.get("/api/v1/articles/", {"page_size": 1}).json()
    since = site.get("/api/v1/changes/", {"page_size": 2}).json()["next_cursor"]
    return [
        (DETAIL.format(slug), None, {}),
        (DETAIL.format(variant_slug), {"audience": "patient"}, {}),
        (DETAIL.format(slug), {"audience": "caregiver"}, {}),  # no such variant: the general text
        (DETAIL.format(variant_slug), None, {"HTTP_ACCEPT": "application/ld+json"}),
        (DETAIL.format(variant_slug), {"format": "jsonld", "audience": "patient"}, {}),
        (DETAIL.format(slug), {"format": "json"}, {"HTTP_ACCEPT": "*/*"}),
        (DETAIL.format(slug), None, {"HTTP_IF_NONE_MATCH": etag}),
        (DETAIL.format(slug), None, {"HTTP_IF_NONE_MATCH": f'W/{etag}, "other"'}),
        (DETAIL.format(slug), None, {"HTTP_IF_NONE_MATCH": '"stale"'}),
        (DETAIL.format(slug), None, {"HTTP_IF_NONE_MATCH": ld_etag, "HTTP_ACCEPT": "application/ld+json"}),
        ("/api/v1/articles/", None, {}),
        ("/api/v1/articles/", {"page_size": 1}, {}),
        (first["next"], None, {}),
        ("/api/v1/articles/", {"page_size": 100}, {}),
        ("/api/v1/articles/", {"page_size": 1}, {"HTTP_IF_NONE_MATCH": site.get(first["next"])["ETag"]}),
        (first["next"], None, {"HTTP_IF_NONE_MATCH": site.get(first["next"])["ETag"]}),
        ("/api/v1/changes/", None, {}),
        ("/api/v1/changes/", {"since": since, "page_size": 2}, {}),
        ("/api/v1/changes/", {"since": "c2VxOjEwMDAwMDA"}, {}),  # past the end: caught up
    ]


def test_it_answers_the_same_bytes_and_headers_as_drf(site, catalogue, monkeypatch):
    requests = _requests(site, catalogue[0].slug, catalogue[2].slug)
    fast = [site.get(url, data, **headers) for url, data, headers in requests]
    _drf_only(monkeypatch)
    through_drf = [site.get(url, data, **headers) for url, data, headers in requests]

    for (url, data, headers), a, b in zip(requests, fast, through_drf, strict=True):
        assert a.status_code in (200, 304), (url, data, headers, a.content)
        _same(a, b)
    statuses = [response.status_code for response in fast]
    assert statuses.count(304) == 4
    assert fast[0]["Allow"] == "GET, HEAD, OPTIONS" and fast[0]["Vary"] == "Accept, Authorization"
    assert fast[3]["Content-Type"] == "application/ld+json"
    assert fast[1].json()["audience"] == "patient" and fast[2].json()["audience"] == "general"
    assert fast[0].json()["review_status"] == "approved"
    assert [item["slug"] for item in fast[10].json()["results"]] == sorted(a.slug for a in catalogue)


def test_it_answers_the_hot_requests_without_drf(site, catalogue, monkeypatch):
    slug = catalogue[0].slug
    etag = site.get(DETAIL.format(slug))["ETag"]
    next_page = site.get("/api/v1/articles/", {"page_size": 1}).json()["next"]

    def refuse(*args, **kwargs):
        raise AssertionError("went through DRF")

    monkeypatch.setattr(APIView, "initial", refuse)
    assert site.get(DETAIL.format(slug)).status_code == 200
    assert site.get(DETAIL.format(slug), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert site.get(next_page).status_code == 200
    assert site.get("/api/v1/changes/", {"page_size": 10}).status_code == 200
    with pytest.raises(AssertionError, match="went through DRF"):
        site.get(DETAIL.format(slug), {"audience": "everyone"})  # a 400: DRF's to answer


def test_it_leaves_refusals_to_drf(site, catalogue, client, settings):
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


def test_it_still_serves_snapshots_stored_without_their_texts(site, catalogue):
    slug, variant_slug = catalogue[0].slug, catalogue[2].slug
    urls = [(DETAIL.format(slug), None, {}), (DETAIL.format(variant_slug), {"audience": "patient"}, {}),
            (DETAIL.format(variant_slug), {"format": "jsonld"}, {}), ("/api/v1/articles/", {"page_size": 2}, {}),
            ("/api/v1/changes/", None, {})]
    before = [site.get(url, data, **headers) for url, data, headers in urls]
    _forget_texts()
    after = [site.get(url, data, **headers) for url, data, headers in urls]

    for a, b in zip(before, after, strict=True):
        assert (a.status_code, a.json(), a["ETag"] if a.has_header("ETag") else None) == (
            b.status_code, b.json(), b["ETag"] if b.has_header("ETag") else None)
    assert site.get(DETAIL.format(slug), HTTP_IF_NONE_MATCH=before[0]["ETag"]).status_code == 304


def test_it_counts_a_request_once_when_drf_takes_over(frozen_clock, site, catalogue, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"api_key": "3/min", "anon_public": "60/min"}}
    _forget_texts()  # the fast path checks the key and the rate, then hands over to DRF
    url = DETAIL.format(catalogue[0].slug)

    assert [site.get(url).status_code for _ in range(3)] == [200, 200, 200]
    refused = site.get(url)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


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
