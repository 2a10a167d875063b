"""The set-based writes of the background jobs: COPY (PostgreSQL) or bulk_create (SQLite), the
audit chain written by `record_many` without model instances, and the rows `flag_stale_articles`
writes through them."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from articles.models import Article
from governance.background import notifications, staleness, webhooks
from governance.models import AuditEvent, ChangeEvent, Notification, WebhookDelivery, WebhookEndpoint
from governance.workflow import audit, rows
from reviewers.models import ReviewAssignment

AWKWARD = ["plain", "", "quote \" and backslash \\", "line\nbreak\ttab\r", "Ünïcödé — “dashes”", "emoji 🫀",
           "line separator \u2028 and \u2029", "control \x01\x1f", "</script>", "a" * 400]


def pending_events() -> list[audit.PendingEvent]:
    events = []
    for i, text in enumerate(AWKWARD):
        events.append(audit.PendingEvent(
            action="article.flag_review_due", object_type="articles.article", object_id=str(1000 + i),
            object_repr=text, article_id=1000 + i if i % 3 else None, article_slug=f"slug-{i}" if i % 2 else "",
            from_state="published" if i % 2 else "", to_state="review_due" if i % 2 else "", reason=text,
            data=[None, {}, {"reviewer": text, "due_at": "2026-12-01T10:00:00+00:00", "system": True, "n": i},
                  {"nested": {"b": [1, 2.5, text], "a": None}, "when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                   "amount": decimal.Decimal("1.10"), "pair": (1, "x"), 7: "int key"}][i % 4]))
    return events


def test_it_builds_the_canonical_text_of_event_hash_piece_by_piece():
    for seq, pending in enumerate(pending_events(), start=1):
        data = json.loads(json.dumps(pending.data or {}, default=str))
        fields = dict(seq=seq, at=timezone.now(), actor_id=seq if seq % 2 else None,
                      actor_username="chief" if seq % 2 else "system", action=pending.action,
                      object_type=pending.object_type, object_id=pending.object_id, object_repr=pending.object_repr[:300],
                      article_id=pending.article_id, article_slug=pending.article_slug, from_state=pending.from_state,
                      to_state=pending.to_state, reason=pending.reason)
        head, tail = audit._canonical(**{**fields, "at": fields["at"].isoformat(timespec="microseconds")},
                                      data_text=audit._encode_data(pending.data))
        prev = f"{seq:064x}"
        expected = audit.event_hash(SimpleNamespace(**fields, data=data), prev)
        assert hashlib.sha256((head + prev + tail).encode()).hexdigest() == expected


def test_it_chains_record_many_exactly_as_record_would(make_article, chief):
    article = make_article()  # audited one by one through `record`
    before = AuditEvent.objects.count()

    assert audit.record_many(pending_events()) == len(AWKWARD)
    audit.record(action="article.note", obj=article, actor=chief, article=article, reason="after the bulk")
    assert audit.record_many(pending_events()[:3], actor=chief) == 3
    given_as_text = [audit.PendingEvent(action="assignment.create", object_type="reviewers.reviewassignment",
                                        object_id=str(i), data=rows.JSONText('{"system": true,  "due_at": "é", "n": 1}'))
                     for i in range(2)]
    assert audit.record_many(given_as_text) == 2

    assert audit.verify().ok
    written = list(AuditEvent.objects.order_by("seq")[before:])
    assert len(written) == len(AWKWARD) + 1 + 3 + 2
    assert [e.data for e in written[-2:]] == [{"system": True, "due_at": "é", "n": 1}] * 2
    assert [e.object_repr for e in written[:len(AWKWARD)]] == [text[:300] for text in AWKWARD]
    assert written[2].data == {"reviewer": AWKWARD[2], "due_at": "2026-12-01T10:00:00+00:00", "system": True, "n": 2}
    assert written[3].data["7"] == "int key" and written[3].data["amount"] == "1.10"
    assert {e.actor_username for e in written[-5:-2]} == {"chief"} and written[-3].actor_id == chief.pk
    assert len({e.at for e in written[:len(AWKWARD)]}) == 1


def test_it_counts_copy_as_a_statement_and_writes_json_once(db):
    endpoint = WebhookEndpoint.objects.create(name="site", url="https://example.org/hook", secret="whsec_QUJDREVGR0g=")
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append(sql.split()[0])
        return execute(sql, params, many, context)

    now = timezone.now()
    with connection.execute_wrapper(spy):
        written = rows.insert_rows(WebhookDelivery, ("message_id", "endpoint_id", "event_type", "payload", "status",
                                                     "attempts", "next_attempt_at", "created_at"), [
            ("msg_1", endpoint.pk, "article.updated", {"text": "tab\there"}, "pending", 0, now, now),
            ("msg_2", endpoint.pk, "article.updated", rows.JSONText('{"ready": "é"}'), "pending", 0, now, now)])

    assert written == 2
    assert seen == (["COPY"] if connection.vendor == "postgresql" else ["INSERT"])
    assert [d.payload for d in WebhookDelivery.objects.order_by("message_id")] == [{"text": "tab\there"},
                                                                                  {"ready": "é"}]


def test_the_query_log_sees_copy_like_any_statement(db):
    from django.test.utils import CaptureQueriesContext

    endpoint = WebhookEndpoint.objects.create(name="site", url="https://example.org/hook", secret="whsec_QUJDREVGR0g=")
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        rows.insert_rows(WebhookDelivery, ("message_id", "endpoint_id", "event_type", "payload", "status", "attempts",
                                           "next_attempt_at", "created_at"),
                         [(f"msg_{i}", endpoint.pk, "article.updated", {}, "pending", 0, now, now) for i in range(3)])
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert ("COPY" in statements) if connection.vendor == "postgresql" else ("INSERT" in statements)
    assert WebhookDelivery.objects.count() == 3


def test_it_allocates_distinct_ids_that_rows_can_be_written_with(make_article, drive, board, chief):
    article = drive(make_article(), "published")
    ids = rows.allocate_ids(ReviewAssignment, 2)
    assert len(set(ids)) == 2
    due = timezone.now() + dt.timedelta(days=3)
    rows.insert_rows(ReviewAssignment, ("id", "article_id", "reviewer_id", "assigned_by_id", "assigned_at", "due_at",
                                        "status", "completed_at"),
                     [(pk, article.pk, member.pk, chief.pk, timezone.now(), due, "open", None)
                      for pk, member in zip(ids, board[:2], strict=True)])
    later = ReviewAssignment.objects.create(article=article, reviewer=board[2], assigned_by=chief, due_at=due)
    assert later.pk > max(ids)  # the sequence (or SQLite's counter) moved past them
    assert set(ReviewAssignment.objects.filter(pk__in=ids).values_list("reviewer", flat=True)) == {
        board[0].pk, board[1].pk}


def test_it_writes_the_same_rows_a_flag_wrote_through_model_instances(make_article, drive, board, settings):
    WebhookEndpoint.objects.create(name="all", url="https://example.org/all", secret="whsec_QUJDREVGR0g=")
    WebhookEndpoint.objects.create(name="published only", url="https://example.org/pub", secret="whsec_QUJDREVGR0g=",
                                   event_types=["article.published"])
    article = drive(make_article(title="Atrial fibrillation: “rate” control"), "published")
    Article.objects.filter(pk=article.pk).update(next_review_due=timezone.localdate() - dt.timedelta(days=1))
    article.refresh_from_db()

    result = staleness.flag_stale_articles()

    assert result.flagged == [article.slug] and result.re_review_requests == 2
    flag = AuditEvent.objects.get(action="article.flag_review_due")
    assert (flag.object_type, flag.object_id, flag.object_repr) == ("articles.article", str(article.pk), article.title)
    assigned = list(ReviewAssignment.objects.filter(article=article, status="open").select_related("reviewer__user"))
    assert {a.assigned_by_id for a in assigned} == {article.live_snapshot.published_by_id}
    for assignment in assigned:
        event = AuditEvent.objects.get(action="assignment.create", object_id=str(assignment.pk))
        assert event.object_repr == str(assignment)
        assert event.data == {"reviewer": assignment.reviewer.user.username, "due_at": assignment.due_at.isoformat(),
                              "system": True}
        note = Notification.objects.get(assignment=assignment)
        assert (note.recipient_id, note.kind, note.article_id) == (assignment.reviewer.user_id, "review_requested",
                                                                   article.pk)
        assert note.subject == f"Re-review requested: {article.title}"
        assert f"Dear {assignment.reviewer.printed_name}," in note.body
        assert f"Please review it by {assignment.due_at:%d %B %Y}." in note.body
        assert note.emailed_at is None and note.email_attempts == 0
    feed = ChangeEvent.objects.get(type="review_due")
    assert (feed.article_id, feed.slug, feed.revision) == (article.pk, article.slug,
                                                           article.live_snapshot.revision.content_hash)
    [delivery] = WebhookDelivery.objects.filter(event_type="article.review_due")
    assert delivery.endpoint.name == "all" and delivery.status == "pending" and delivery.next_attempt_at is not None
    assert delivery.payload["data"] == {"slug": article.slug, "revision": feed.revision,
                                        "url": f"{settings.SITE_URL}/api/v1/articles/{article.slug}/"}
    assert audit.verify().ok
    assert notifications.send_pending_emails() == 2 and notifications.send_pending_emails() == 0
    assert len(mail.outbox) == 2


def test_it_enqueues_nothing_without_an_endpoint_that_wants_the_event(db):
    WebhookEndpoint.objects.create(name="pub", url="https://example.org/pub", secret="whsec_QUJDREVGR0g=",
                                   event_types=["article.published"])
    article = SimpleNamespace(pk=1, slug="some-article")
    assert webhooks.enqueue_many([("review_due", article, "abc")]) == 0
    assert webhooks.enqueue_many([("published", article, "abc")]) == 1
    assert not WebhookDelivery.objects.filter(event_type="article.review_due").exists()


@pytest.mark.parametrize("n", [0, 3])
def test_it_queues_the_email_task_once_per_bulk_notification(db, board, django_capture_on_commit_callbacks, n):
    with django_capture_on_commit_callbacks() as callbacks:
        written = notifications.notify_rows([(board[i].user_id, "review_requested", "s" * 320, "body", "", None, None)
                                             for i in range(n)])
    assert written == n and len(callbacks) == (1 if n else 0)
    assert {len(s) for s in Notification.objects.values_list("subject", flat=True)} == ({300} if n else set())
