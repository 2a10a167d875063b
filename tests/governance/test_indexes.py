"""The tables the background jobs append to by the hundred thousand keep only the indexes some
query uses: no varchar_pattern_ops twin (what db_index=True / unique=True add on PostgreSQL for
LIKE 'x%', which nothing runs) and no index a composite one already leads with."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from articles.models import Article
from governance.models import AuditEvent, Notification, WebhookDelivery
from reviewers.models import ReviewAssignment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

WRITTEN_IN_BULK = [Article, AuditEvent, Notification, ReviewAssignment, WebhookDelivery]


def index_definitions(model) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [model._meta.db_table])
        return dict(cursor.fetchall())


@pytest.mark.parametrize("model", WRITTEN_IN_BULK, ids=lambda m: m._meta.label)
def test_no_pattern_ops_twin_on_a_table_written_in_bulk(model):
    twins = {name for name, definition in index_definitions(model).items() if "pattern_ops" in definition}
    # The article slug keeps its twin: it is unique=True on a SlugField read by every request, and
    # not written by the background jobs.
    assert twins <= ({"articles_article_slug_cc61df93_like"} if model is Article else set()), twins


@pytest.mark.parametrize(("model", "column"), [(ReviewAssignment, "reviewer_id"), (Notification, "recipient_id")])
def test_a_foreign_key_led_by_a_composite_index_has_none_of_its_own(model, column):
    definitions = index_definitions(model).values()
    led_by = [d for d in definitions if d.split("USING btree (")[1].startswith(column)]
    assert len(led_by) == 1, led_by  # the composite one only
    assert "," in led_by[0] or "INCLUDE" in led_by[0], led_by


def test_the_audit_table_keeps_only_the_indexes_its_queries_use():
    columns = {d.split("USING btree (")[1].split(")")[0] for d in index_definitions(AuditEvent).values()}
    assert columns == {"id", "seq", "action", "article_id"}


def test_two_events_cannot_share_a_place_in_the_chain(db):
    """What keeps the chain from forking is the unique `seq` (each hash covers it), not an index on the hash."""
    first = AuditEvent.objects.create(seq=1, at="2026-01-01T00:00:00Z", action="x", object_type="t", object_id="1",
                                      prev_hash="0" * 64, hash="a" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(seq=1, at=first.at, action="x", object_type="t", object_id="2",
                                  prev_hash="0" * 64, hash="b" * 64)
