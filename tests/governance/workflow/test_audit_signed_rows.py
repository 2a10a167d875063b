"""Signed content cannot change underneath its signatures: revisions, their audience versions and
their citations are never updated nor deleted on their own, signed reviews only ever voided,
through the ORM's querysets on every database and, on PostgreSQL, through raw SQL too (triggers
of articles 0005 and 0009, reviewers 0004). The legitimate paths still work: voiding approvals,
deleting an unsigned article."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from articles.models import Article, AudienceVariant, Citation, Revision
from governance.workflow import services
from reviewers.models import Review
from tests.conftest import article_content


def _raw(sql: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_refuses_a_queryset_update_of_a_revision(make_article):
    article = make_article()

    with pytest.raises(ValidationError):
        Revision.objects.filter(pk=article.current_revision_id).update(body_markdown="Take twice the dose.")
    with pytest.raises(ValidationError):
        article.revisions.update(content_hash="0" * 64)

    assert Revision.objects.get(pk=article.current_revision_id).body_markdown == article_content().body_markdown


def test_it_refuses_queryset_changes_of_a_signed_review_but_voids_it(make_article, drive):
    article = drive(make_article(), "approved")
    reviews = Review.objects.filter(article=article)

    with pytest.raises(ValidationError):
        reviews.update(decision="changes_requested")
    with pytest.raises(ValidationError):
        reviews.update(signed_name="Someone Else", voided_at=None)
    with pytest.raises(ValidationError):
        reviews.delete()
    with pytest.raises(ValidationError):
        reviews.first().delete()

    assert set(reviews.values_list("decision", flat=True)) == {"approved"}
    services.article_edit(article=article, actor=article.created_by, content=article_content(summary="New."))
    assert reviews.filter(voided_at__isnull=False).count() == 2


@pytest.mark.postgres  # the triggers exist only on PostgreSQL: on SQLite this would prove nothing
def test_it_refuses_raw_sql_changes_of_signed_content_on_postgresql(make_article, drive):
    article = drive(make_article(), "approved")
    revision_id = article.current_revision_id
    review = Review.objects.filter(article=article).first()
    attempts = [
        ("UPDATE articles_revision SET body_markdown = %s WHERE id = %s", "Take twice the dose.", revision_id),
        ("UPDATE articles_revision SET content_hash = %s WHERE id = %s", "0" * 64, revision_id),
        ("UPDATE reviewers_review SET revision_hash = %s WHERE id = %s", "0" * 64, review.pk),
        ("UPDATE reviewers_review SET signed_specialties = %s WHERE id = %s", '["Surgery"]', review.pk),
        ("DELETE FROM reviewers_review WHERE id = %s AND %s = %s", review.pk, 1, 1),
    ]
    for sql, *params in attempts:
        with pytest.raises(DatabaseError):
            _raw(sql, *params)

    assert Revision.objects.get(pk=revision_id).body_markdown == article_content().body_markdown
    assert Review.objects.get(pk=review.pk).revision_hash == article.current_revision.content_hash


@pytest.mark.postgres  # a trigger (reviewers 0004): SQLite has none
def test_it_refuses_raw_sql_deletion_of_a_revision_with_reviews_on_postgresql(make_article, drive):
    article = drive(make_article(), "approved")
    services.article_edit(article=article, actor=article.created_by, content=article_content(summary="New."))
    signed = Revision.objects.filter(article=article, number=1).get()
    Article.objects.filter(pk=article.pk).update(current_revision=None)  # the FK alone no longer holds it

    _raw("DELETE FROM reviewers_review WHERE revision_id = -1")  # nothing: allowed
    with pytest.raises(DatabaseError, match="signed reviews"):
        _raw("DELETE FROM articles_revision WHERE id = %s", signed.pk)
    assert Revision.objects.filter(pk=signed.pk).exists()


@pytest.mark.postgres  # a trigger (reviewers 0004): SQLite has none
def test_it_refuses_to_unvoid_a_voided_review_on_postgresql(make_article, drive):
    article = drive(make_article(), "approved")
    services.article_edit(article=article, actor=article.created_by, content=article_content(summary="New."))
    review = Review.objects.filter(article=article).first()
    assert review.voided_at is not None

    with pytest.raises(DatabaseError):
        _raw("UPDATE reviewers_review SET voided_at = NULL WHERE id = %s", review.pk)
    assert Review.objects.get(pk=review.pk).voided_at is not None


def test_it_still_deletes_an_unsigned_article_and_its_revisions(make_article, drive):
    article = drive(make_article(), "in_review")
    revision_ids = list(article.revisions.values_list("pk", flat=True))

    Article.objects.get(pk=article.pk).delete()

    assert not Revision.objects.filter(pk__in=revision_ids).exists()


def _with_patient_version(make_article):
    return make_article(variants=[services.VariantInput("patient", "Plain words [@trial2021] [@nice2018].")])


def test_it_refuses_orm_changes_of_a_revisions_citations_and_audience_versions(make_article):
    article = _with_patient_version(make_article)
    revision = article.current_revision
    citation, variant = revision.citations.get(number=1), revision.variants.get()

    for attempt in (lambda: Citation.objects.filter(pk=citation.pk).update(cited={**citation.cited, "year": 1999}),
                    lambda: revision.citations.update(number=7),
                    lambda: revision.citations.all().delete(),
                    lambda: AudienceVariant.objects.filter(pk=variant.pk).update(body_markdown="Take twice the dose."),
                    lambda: revision.variants.all().delete(),
                    lambda: citation.delete(),
                    lambda: variant.delete()):
        with pytest.raises(ValidationError, match="immutable revision"):
            attempt()
    citation.key = "other"
    with pytest.raises(ValidationError, match="immutable revision"):
        citation.save()

    assert revision.citations.get(number=1).cited == citation.cited and revision.citations.count() == 2
    assert revision.variants.get().body_markdown == variant.body_markdown


@pytest.mark.postgres  # triggers of articles 0009: SQLite has none
def test_it_refuses_raw_sql_changes_of_citations_and_audience_versions_on_postgresql(make_article, drive):
    article = drive(_with_patient_version(make_article), "approved")
    revision = article.current_revision
    citation, variant = revision.citations.get(number=1), revision.variants.get()
    attempts = [
        ("UPDATE articles_citation SET cited = %s WHERE id = %s", json.dumps({**citation.cited, "year": 1999}),
         citation.pk),
        ("UPDATE articles_citation SET number = 9 WHERE id = %s", citation.pk),
        ("UPDATE articles_audiencevariant SET body_markdown = 'Take twice the dose.' WHERE id = %s", variant.pk),
        ("DELETE FROM articles_citation WHERE id = %s", citation.pk),  # its revision is signed
        ("DELETE FROM articles_audiencevariant WHERE id = %s", variant.pk),
    ]
    for sql, *params in attempts:
        with pytest.raises(DatabaseError, match=r"immutable revision|signed reviews"):
            _raw(sql, *params)

    assert Citation.objects.get(pk=citation.pk).cited == citation.cited
    assert AudienceVariant.objects.get(pk=variant.pk).body_markdown == variant.body_markdown


def test_it_still_deletes_an_unsigned_article_with_its_citations_and_audience_versions(make_article, drive):
    article = drive(_with_patient_version(make_article), "in_review")
    revision_ids = list(article.revisions.values_list("pk", flat=True))
    assert Citation.objects.filter(revision_id__in=revision_ids).count() == 2

    Article.objects.get(pk=article.pk).delete()

    assert not Citation.objects.filter(revision_id__in=revision_ids).exists()
    assert not AudienceVariant.objects.filter(revision_id__in=revision_ids).exists()

