"""Staleness: approved text must not silently go stale.

`flag_stale_articles` moves every published article past its `next_review_due` to `review_due`
in one set-based UPDATE … RETURNING (so two workers running it at once split the rows between
them and neither flags an article twice), then writes the consequences in bulk: the audit events
(one chain lock, one INSERT), the changes feed and the webhook outbox, and a re-review request to
each board member who approved the live text and may still review it. The number of queries does
not grow with the number of articles.

A policy with `unpublish_grace_days` withdraws the live text that many days after the review fell
due (`services.article_unpublish_overdue`: audited, a tombstone in the feed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from articles.models import Article, ArticleState, Revision, RiskTier
from reviewers.models import ConflictOfInterest, Review, ReviewAssignment

from . import audit, notifications, services, webhooks
from .exceptions import TransitionRefused
from .models import ChangeEvent, Notification, ReviewPolicy

STALE_REASON = "review interval elapsed"


@dataclass
class FlagResult:
    flagged: list[str] = field(default_factory=list)  # slugs
    re_review_requests: int = 0
    unpublished: list[str] = field(default_factory=list)


# --- policies, resolved in memory (one query for all of them) -----------------------------------

@dataclass(frozen=True)
class _Policy:
    assignment_due_days: int = 14
    unpublish_grace_days: int | None = None


def policy_table() -> Callable[[int, str], _Policy]:
    """Resolve ReviewPolicy like selectors.policy_for, for many articles, with one query."""
    rows = list(ReviewPolicy.objects.all())
    by_key = {(p.topic_id, p.risk_tier): p for p in rows}

    def resolve(topic_id: int, risk_tier: str) -> _Policy:
        policy = by_key.get((topic_id, risk_tier)) or by_key.get((None, risk_tier))
        if policy is None:
            return _Policy()
        return _Policy(policy.assignment_due_days, policy.unpublish_grace_days)

    return resolve


# --- the set-based flag -------------------------------------------------------------------------

def _update_returning(where: str, params: list[Any]) -> list[int]:
    """UPDATE the articles matching `where` (which must require state = 'published') to
    review_due, returning their ids. PostgreSQL re-checks the WHERE clause of a row another
    transaction changed meanwhile, so a concurrent run skips what this one flagged."""
    table = connection.ops.quote_name(Article._meta.db_table)
    state = connection.ops.quote_name(Article._meta.get_field("state").column)
    updated_at = connection.ops.quote_name(Article._meta.get_field("updated_at").column)
    pk = connection.ops.quote_name(Article._meta.pk.column)
    sql = f"UPDATE {table} SET {state} = %s, {updated_at} = %s WHERE {where} RETURNING {pk}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [ArticleState.REVIEW_DUE, timezone.now(), *params])
        return [row[0] for row in cursor.fetchall()]


def flag_review_due(ids_sql: str, params: list[Any], *, reason_for: Callable[[Article], str]) -> FlagResult:
    """Flag the published articles selected by `ids_sql` and write every consequence in bulk.
    Runs in one transaction; the article rows stay locked until it commits."""
    result = FlagResult()
    with transaction.atomic():
        state = connection.ops.quote_name(Article._meta.get_field("state").column)
        ids = _update_returning(f"{state} = %s AND ({ids_sql})", [ArticleState.PUBLISHED, *params])
        if not ids:
            return result
        articles = list(Article.objects.filter(pk__in=ids).select_related("live_snapshot__revision")
                        .order_by("pk"))
        reasons = {a.pk: reason_for(a) for a in articles}
        events = [
            audit.PendingEvent(action="article.flag_review_due", object_type=Article._meta.label_lower,
                               object_id=str(a.pk), object_repr=str(a), article_id=a.pk, article_slug=a.slug,
                               from_state=ArticleState.PUBLISHED, to_state=ArticleState.REVIEW_DUE,
                               reason=reasons[a.pk])
            for a in articles
        ]
        assignments, assignment_events, notes = _re_review_requests(articles, reasons)
        audit.record_many(events + assignment_events)
        changes = [(ChangeEvent.Type.REVIEW_DUE, a, a.live_snapshot.revision.content_hash if a.live_snapshot_id
                    else "") for a in articles]
        audit.record_changes(changes)
        webhooks.enqueue_many(changes)
        notifications.notify_many(notes)
        result.flagged = [a.slug for a in articles]
        result.re_review_requests = len(assignments)
    return result


def _re_review_requests(articles: list[Article], reasons: dict[int, str]):
    """New open assignments for the approvers of each article's live text who may still review
    it (active, licence valid, no active conflict of interest on the topic, not an author), with
    their audit events and notifications. A constant number of queries."""
    today = timezone.localdate()
    now = timezone.now()
    by_revision = {a.live_snapshot.revision_id: a for a in articles if a.live_snapshot_id}
    approvals = list(Review.objects.filter(revision_id__in=list(by_revision), decision=Review.Decision.APPROVED,
                                           voided_at__isnull=True).select_related("reviewer__user"))
    member_ids = {r.reviewer_id for r in approvals}
    conflicts = set(ConflictOfInterest.objects.filter(member_id__in=member_ids,
                                                      topic_id__in={a.topic_id for a in articles})
                    .filter(ConflictOfInterest.active_q(today)).values_list("member_id", "topic_id"))
    authors: dict[int, set[int]] = {a.pk: {a.created_by_id} for a in articles}
    for article_id, user_id in Revision.objects.filter(article_id__in=list(authors)).values_list(
            "article_id", "created_by_id"):
        authors[article_id].add(user_id)
    already_open = set(ReviewAssignment.objects.filter(article_id__in=list(authors),
                                                       status=ReviewAssignment.Status.OPEN)
                       .values_list("article_id", "reviewer_id"))
    resolve = policy_table()
    fallback_editor = notifications.managing_editors().values_list("pk", flat=True).first()
    published_by = {a.pk: a.live_snapshot.published_by_id for a in articles if a.live_snapshot_id}

    assignments: list[ReviewAssignment] = []
    for review in approvals:
        article = by_revision[review.revision_id]
        member = review.reviewer
        if (not member.is_active or not member.licence_valid(today) or (member.pk, article.topic_id) in conflicts
                or member.user_id in authors[article.pk] or (article.pk, member.pk) in already_open):
            continue
        already_open.add((article.pk, member.pk))
        due_days = resolve(article.topic_id, article.risk_tier or RiskTier.STANDARD).assignment_due_days
        # The system asks on behalf of whoever published the live text (else a managing editor).
        assigned_by = published_by.get(article.pk) or fallback_editor or article.created_by_id
        assignments.append(ReviewAssignment(article=article, reviewer=member, assigned_by_id=assigned_by,
                                            assigned_at=now, due_at=now + dt.timedelta(days=due_days)))
    ReviewAssignment.objects.bulk_create(assignments, batch_size=1000)

    events, notes = [], []
    for assignment in assignments:
        article, member = assignment.article, assignment.reviewer
        reason = reasons[article.pk]
        events.append(audit.PendingEvent(
            action="assignment.create", object_type=ReviewAssignment._meta.label_lower, object_id=str(assignment.pk),
            object_repr=str(assignment), article_id=article.pk, article_slug=article.slug,
            reason=f"re-review requested: {reason}",
            data={"reviewer": member.user.get_username(), "due_at": assignment.due_at.isoformat(), "system": True}))
        notes.append(Notification(
            recipient=member.user, kind=Notification.Kind.REVIEW_REQUESTED, article=article, assignment=assignment,
            subject=f"Re-review requested: {article.title}",
            body=(f"Dear {member.printed_name},\n\nYou approved the live text of \"{article.title}\". It needs "
                  f"re-review: {reason}.\n\nPlease review it by {assignment.due_at:%d %B %Y}. If the text is still "
                  f"accurate you can re-approve it unchanged.\n\n{notifications.admin_url()}\n")))
    return assignments, events, notes


# --- the jobs -----------------------------------------------------------------------------------

def flag_stale_articles(*, today: dt.date | None = None) -> FlagResult:
    """Flag every published article past `next_review_due` (see the module docstring), then
    unpublish those past their policy's grace period. Idempotent."""
    today = today or timezone.localdate()
    due = connection.ops.quote_name(Article._meta.get_field("next_review_due").column)
    result = flag_review_due(f"{due} < %s", [today], reason_for=lambda article: STALE_REASON)
    result.unpublished = unpublish_past_grace(today=today)
    return result


def unpublish_past_grace(*, today: dt.date | None = None) -> list[str]:
    """Withdraw the live text of review_due articles whose policy's grace period ran out."""
    today = today or timezone.localdate()
    resolve = policy_table()
    graces = [p.unpublish_grace_days for p in ReviewPolicy.objects.filter(unpublish_grace_days__isnull=False)]
    if not graces:
        return []
    candidates = Article.objects.filter(state=ArticleState.REVIEW_DUE, live_snapshot__isnull=False,
                                        next_review_due__lt=today - dt.timedelta(days=min(graces)))
    unpublished = []
    for article in candidates:
        grace = resolve(article.topic_id, article.risk_tier).unpublish_grace_days
        if grace is None or article.next_review_due + dt.timedelta(days=grace) >= today:
            continue
        reason = (f"review overdue since {article.next_review_due:%Y-%m-%d}: the review policy's grace period "
                  f"of {grace} days ran out")
        try:
            services.article_unpublish_overdue(article=article, reason=reason)
        except TransitionRefused:
            continue  # another worker (or an editor) changed it first
        unpublished.append(article.slug)
    return unpublished
