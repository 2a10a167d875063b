"""The audit log is append-only: no update or delete through the ORM (instance or queryset), on
PostgreSQL not even through raw SQL, and deleting an article never deletes its history."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from articles.models import Article
from governance.models import AuditEvent
from governance.workflow import audit


@pytest.fixture
def event(make_article) -> AuditEvent:
    make_article()
    return AuditEvent.objects.order_by("seq").first()


def test_it_appends_an_event(make_article):
    make_article()

    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["article.create", "reference.create", "reference.create", "revision.create"]
    assert audit.verify().ok


def test_it_refuses_to_save_an_existing_event(event):
    event.reason = "rewritten"

    with pytest.raises(ValidationError):
        event.save()

    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_it_refuses_to_delete_an_event(event):
    with pytest.raises(ValidationError):
        event.delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_a_queryset_update(event):
    with pytest.raises(ValidationError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")

    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_it_refuses_a_queryset_delete(event):
    with pytest.raises(ValidationError):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.exists()


def test_it_refuses_a_bulk_update(event):
    event.reason = "rewritten"

    with pytest.raises(ValidationError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["reason"])

    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.postgres
@pytest.mark.parametrize("sql", [
    "UPDATE governance_auditevent SET reason = 'rewritten' WHERE id = %s",
    "DELETE FROM governance_auditevent WHERE id = %s",
])
def test_it_refuses_raw_sql_update_and_delete_on_postgresql(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])

    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.postgres
def test_it_still_lets_postgresql_insert_events(make_article):
    make_article()

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM governance_auditevent")
        assert cursor.fetchone()[0] == AuditEvent.objects.count() > 0


def test_it_keeps_the_audit_events_of_a_deleted_draft(make_article):
    article = make_article()
    pk, count = article.pk, AuditEvent.objects.filter(article_id=article.pk).count()

    article.delete()

    assert not Article.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(article_id=pk).count() == count > 0
    assert audit.verify().ok


def test_it_keeps_the_audit_events_of_a_deleted_article_that_had_reviewers(make_article, drive, chief, board):
    from governance.workflow import services

    article = drive(make_article(), "submitted")
    services.assignment_create(article=article, actor=chief, reviewer=board[0])
    pk, count = article.pk, AuditEvent.objects.filter(article_id=article.pk).count()

    Article.objects.get(pk=pk).delete()

    assert AuditEvent.objects.filter(article_id=pk).count() == count
    assert audit.verify().ok


def test_it_refuses_to_delete_an_article_with_signed_reviews(make_article, drive):
    from django.db.models import ProtectedError

    article = drive(make_article(), "approved")

    with pytest.raises(ProtectedError), transaction.atomic():
        Article.objects.get(pk=article.pk).delete()

    assert Article.objects.filter(pk=article.pk).exists()


def test_it_deletes_an_unsigned_article_under_review_and_keeps_its_audit_events(make_article, drive):
    article = drive(make_article(), "in_review")
    article_id = article.pk
    events_before = AuditEvent.objects.filter(article_id=article_id).count()

    article.delete()

    assert not Article.objects.filter(pk=article_id).exists()
    assert AuditEvent.objects.filter(article_id=article_id).count() == events_before > 0
