"""What a stored document shows about other things than its approved text: the related articles
(their live, approved titles only) and each reference's retraction status, kept current on the
live snapshots."""

from __future__ import annotations

import io
import json
from pathlib import Path

from django.core.management import call_command

from articles.models import PublishedSnapshot, Reference
from governance.workflow import services, snapshots
from tests.conftest import article_content

DETAIL = "/api/v1/articles/{}/"
RETRACTIONS_CSV = Path(__file__).resolve().parent.parent / "fixtures" / "retractions.csv"


def _related(site, slug):
    response = site.get(DETAIL.format(slug))
    assert response.status_code == 200
    return response.content.decode(), response.json()["related"]


def test_it_links_related_articles_by_their_approved_title_never_a_draft(site, make_article, drive, writer):
    b = drive(make_article(title="Heart failure medicines"), "published")
    a = make_article(title="Living with heart failure")
    a.related.add(b)
    services.article_edit(article=b, actor=writer, content=article_content(title="DRAFT unreviewed title"))
    a = drive(a, "published")

    text, related = _related(site, a.slug)

    assert "DRAFT unreviewed title" not in text
    assert related == [{"slug": b.slug, "title": "Heart failure medicines", "url": snapshots.article_api_url(b.slug)}]
    assert "DRAFT unreviewed title" not in a.live_snapshot.rendered_document


def test_it_leaves_out_related_articles_that_are_not_live(site, make_article, drive):
    draft = make_article(title="Never published")
    a = make_article(title="Living with heart failure")
    a.related.add(draft)
    a = drive(a, "published")

    text, related = _related(site, a.slug)

    assert related == [] and "Never published" not in text


def test_it_updates_and_drops_the_link_when_the_related_article_changes_live(site, make_article, drive,
                                                                             writer, chief):
    b = drive(make_article(title="Heart failure medicines"), "published")
    a = make_article(title="Living with heart failure")
    a.related.add(b)
    a = drive(a, "published")
    etag = site.get(DETAIL.format(a.slug))["ETag"]

    b = services.article_edit(article=b, actor=writer, content=article_content(title="Medicines for heart failure"),
                          change_note="Retitled", is_major_change=True)
    b = drive(b, "published")
    _, related = _related(site, a.slug)
    assert [r["title"] for r in related] == ["Medicines for heart failure"]
    assert site.get(DETAIL.format(a.slug))["ETag"] != etag
    assert site.get(DETAIL.format(a.slug), HTTP_IF_NONE_MATCH=etag).status_code == 200

    services.article_withdraw(article=b, actor=chief, reason="Superseded")
    text, related = _related(site, a.slug)
    assert related == [] and b.slug not in text


def test_it_marks_a_cited_source_retracted_once_imported_and_changes_the_etag(site, make_article, drive):
    variant = services.VariantInput("patient", "In plain words [@trial2021] [@nice2018].")
    article = drive(make_article(variants=[variant]), "published")  # cites doi:10.1056/NEJMoa0000001
    etag = site.get(DETAIL.format(article.slug))["ETag"]
    ld_etag = site.get(DETAIL.format(article.slug), {"format": "jsonld"})["ETag"]
    assert site.get(DETAIL.format(article.slug)).json()["references"][0]["retracted"] is False

    call_command("import_retractions", str(RETRACTIONS_CSV), "--no-progress", stdout=io.StringIO(),
                 stderr=io.StringIO())

    for params in ({}, {"audience": "patient"}):
        response = site.get(DETAIL.format(article.slug), params)
        trial = response.json()["references"][0]
        assert (trial["doi"], trial["retracted"], trial["retraction_status"]) == (
            "10.1056/nejmoa0000001", True, "retracted"), params
        assert response.json()["references"][1]["retracted"] is False
    assert site.get(DETAIL.format(article.slug))["ETag"] != etag
    assert site.get(DETAIL.format(article.slug), HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert site.get(DETAIL.format(article.slug), {"format": "jsonld"})["ETag"] != ld_etag
    snapshot = PublishedSnapshot.objects.get(pk=article.live_snapshot_id)
    assert json.loads(snapshot.rendered_document) == snapshot.document
    assert snapshot.etag == snapshots.etag_for([snapshot.document, snapshot.variant_documents])


def test_it_refreshes_the_retractions_of_any_number_of_snapshots_in_constant_queries(
        make_article, drive, django_assert_max_num_queries):
    articles = [drive(make_article(title=f"Heart failure {i}"), "published") for i in range(4)]
    trial = Reference.objects.get(doi__iexact="10.1056/NEJMoa0000001")
    Reference.objects.filter(pk=trial.pk).update(retraction_status=Reference.RetractionStatus.RETRACTED)

    with django_assert_max_num_queries(4):  # the snapshots' ids, the snapshots, their citations, one UPDATE
        assert snapshots.refresh_retractions([trial.pk]) == 4

    for article in articles:
        assert PublishedSnapshot.objects.get(pk=article.live_snapshot_id).document["references"][0]["retracted"]
