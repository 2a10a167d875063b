"""The benchmark seed: the bulk path writes the rows the services write, and keeps the audit
chain verifiable. (The seed is a bench tool; nothing here is timed.)"""

from __future__ import annotations

import json

import pytest

from articles.models import Article
from bench import seed
from governance.models import AuditEvent, ChangeEvent
from governance.workflow import audit, services, snapshots
from reviewers.models import Review, ReviewAssignment, ReviewCycle

pytestmark = pytest.mark.django_db

IGNORED = {"id", "seq", "at", "hash", "prev_hash", "object_id", "article_id", "article_slug", "object_repr", "data"}


def audit_trail(article: Article) -> list[dict]:
    rows = AuditEvent.objects.filter(article_id=article.pk).exclude(action="reference.create").order_by("seq")
    return [{k: v for k, v in row.items() if k not in IGNORED} | {"data_keys": sorted(row["data"])}
            for row in rows.values()]


@pytest.fixture
def seeded():
    return seed.seed(12, bulk=True, templates=6, progress=False, batch=4)


def test_it_publishes_the_templates_through_the_services_and_clones_the_rest(seeded):
    assert seeded["through_services"] == 6
    assert seeded["bulk"] == 6
    articles = Article.objects.filter(slug__startswith="bench-")
    assert articles.count() == 12
    assert all(a.state == "published" and a.live_snapshot_id for a in articles)
    assert ChangeEvent.objects.filter(type="published").count() == 12


def test_it_keeps_the_audit_chain_intact(seeded):
    check = audit.verify()
    assert check.ok, str(check)
    clone = Article.objects.get(slug=seed.slug_of(11))
    assert audit.verify_article(clone.pk).ok


@pytest.mark.parametrize("i", [6, 7, 8])
def test_it_writes_the_rows_the_services_write(seeded, i):
    template = Article.objects.get(slug=seed.slug_of(i % 6))
    clone = Article.objects.get(slug=seed.slug_of(i))
    assert audit_trail(clone) == audit_trail(template)
    for model in (Review, ReviewAssignment, ReviewCycle):
        assert model.objects.filter(article=clone).count() == model.objects.filter(article=template).count()
    assert clone.current_revision.citations.count() == seed.REFERENCES_PER_ARTICLE
    assert (clone.topic_id, clone.origin, clone.next_review_due) == (template.topic_id, template.origin,
                                                                     template.next_review_due)
    assert Review.objects.filter(article=clone).count() == (3 if clone.origin == "ai_assisted" else 2)


def test_its_clones_carry_their_own_hash_document_and_etag(seeded):
    clone = Article.objects.get(slug=seed.slug_of(9))
    template = Article.objects.get(slug=seed.slug_of(3))
    title, summary = seed.title_of(9)
    wanted = seed.content_of(3)
    wanted.title, wanted.summary = title, summary
    assert clone.current_revision.content_hash == services.content._prepare(wanted).hash
    snapshot = clone.live_snapshot
    assert snapshot.document["slug"] == clone.slug
    assert snapshot.document["title"] == clone.title == title
    assert snapshot.document["revision"] == clone.current_revision.content_hash
    assert sorted(snapshot.document) == sorted(template.live_snapshot.document)
    assert snapshot.etag == snapshots.etag_for([snapshot.document, snapshot.variant_documents])
    assert snapshot.jsonld["general"]["name"] == title


def test_it_adds_only_what_is_missing(seeded):
    again = seed.seed(12, bulk=True, templates=6, progress=False)
    assert again["existed"] == 12
    assert again["through_services"] == again["bulk"] == 0


def test_its_clones_carry_the_response_texts_the_services_store(seeded):
    from articles.models import rendered_snapshot

    for i in (2, 9):  # a template, published through the services, and a clone
        article = Article.objects.get(slug=seed.slug_of(i))
        snapshot = article.live_snapshot
        texts = rendered_snapshot(snapshot.document, snapshot.variant_documents, snapshot.jsonld)
        # The same documents (the key order of a template's may differ: read back from jsonb).
        assert json.loads(snapshot.rendered_document) == json.loads(texts["rendered_document"])
        assert json.loads(snapshot.rendered_list_item) == json.loads(texts["rendered_list_item"])
        assert {k: json.loads(v) for k, v in snapshot.rendered_jsonld.items()} == snapshot.jsonld
        assert snapshot.rendered_variants == texts["rendered_variants"] == {}
        years = [r["year"] for r in snapshot.document["references"] if r["year"]]
        assert snapshot.newest_reference_year == max(years)  # what the evidence report reads
        event = ChangeEvent.objects.get(article_id=article.pk)
        assert event.entry_json == ChangeEvent.public_entry(type=event.type, slug=event.slug, at=event.at,
                                                            revision=event.revision)
