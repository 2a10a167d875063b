"""Revisions: immutable, one per content save, none for identical content."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from articles.models import Revision
from governance.workflow import services
from tests.conftest import BODY, article_content


def test_it_refuses_to_save_an_existing_revision(make_article):
    revision = make_article().current_revision
    revision.body_markdown = "tampered"

    with pytest.raises(ValidationError):
        revision.save()

    assert Revision.objects.get(pk=revision.pk).body_markdown == BODY


def test_it_refuses_to_delete_a_revision(make_article):
    revision = make_article().current_revision

    with pytest.raises(ValidationError):
        revision.delete()

    assert Revision.objects.filter(pk=revision.pk).exists()


def test_it_saves_the_first_revision_as_the_articles_working_text(make_article, writer):
    article = make_article()

    [revision] = Revision.objects.filter(article=article)
    assert article.current_revision_id == revision.pk
    assert (revision.number, revision.title, revision.body_markdown, revision.created_by) == (
        1, "Living with heart failure", BODY, writer)
    assert [c.key for c in revision.citations.order_by("number")] == ["trial2021", "nice2018"]
    assert len(revision.content_hash) == 64
    assert services.stored_content_check(revision, list(revision.citations.order_by("number")),
                                         list(revision.variants.all())) == "verified"


def test_it_makes_a_new_revision_on_every_content_save(make_article, writer):
    article = make_article()
    first = article.current_revision

    article = services.article_edit(article=article, actor=writer, change_note="Clarify",
                                    content=article_content(summary="A clearer summary."))

    second = article.current_revision
    assert second.pk != first.pk
    assert (first.number, second.number) == (1, 2)
    assert second.content_hash != first.content_hash
    assert second.change_note == "Clarify"
    assert Revision.objects.get(pk=first.pk).summary == "What heart failure is and how it is treated."


def test_it_makes_no_revision_for_identical_content(make_article, writer):
    article = make_article()

    article = services.article_edit(article=article, actor=writer, content=article_content())

    assert article.revisions.count() == 1


def test_it_hashes_content_canonically(make_article):
    one = make_article().current_revision
    two = make_article().current_revision

    assert one.content_hash == two.content_hash
    assert len(one.content_hash) == 64


def test_it_refuses_to_delete_the_working_revision_through_a_queryset(make_article):
    from django.core.exceptions import ValidationError
    from django.db import transaction

    article = make_article()

    with pytest.raises(ValidationError), transaction.atomic():
        Revision.objects.filter(pk=article.current_revision_id).delete()

    assert Revision.objects.filter(article=article).count() == 1
