"""Staleness: approved text must not silently go stale.

`flag_stale_articles` (daily) selects every published article past its `next_review_due` and runs
the set-based flag_review_due on them (`services.bulk.flag_review_due`: one UPDATE … RETURNING,
so two workers running it at once split the rows between them and neither flags an article
twice, then the consequences set-based: the audit events, the changes feed and the webhook
outbox, and a re-review request — assignment, audit event, notification — to each board member
who approved the live text and may still review it). The number of queries does not grow with
the number of articles.

A policy with `unpublish_grace_days` withdraws the live text that many days after the review fell
due (`unpublish_past_grace`, through the set-based withdraw, `services.bulk.withdraw`: audited, a
tombstone in the feed, a `withdrawn` webhook). This module only chooses which articles and why.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from articles.models import Article, ArticleState
from governance.models import Notification, ReviewPolicy
from governance.workflow.services import bulk
from governance.workflow.services.bulk import FlagResult, flag_review_due, policy_table
from reviewers.models import ReviewAssignment

STALE_REASON = "review interval elapsed"


# --- the jobs -----------------------------------------------------------------------------------

def flag_stale_articles(*, today: dt.date | None = None) -> FlagResult:
    """Flag every published article past `next_review_due` (see the module docstring), then
    unpublish those past their policy's grace period. Idempotent."""
    today = today or timezone.localdate()
    due = connection.ops.quote_name(Article._meta.get_field("next_review_due").column)
    result = flag_review_due(f"{due} < %s", [today], reason_for=lambda article: STALE_REASON)
    result.unpublished = unpublish_past_grace(today=today)
    if len(result.flagged) >= ANALYZE_AFTER:
        refresh_planner_statistics()
    return result


# A sweep that flags this many articles changes the tables enough to mislead PostgreSQL's
# planner until autovacuum's next ANALYZE (minutes, or never where autovacuum is off): measured
# in bench/, the hourly reminders' join of open assignments to review_due articles took a nested
# loop over 233,333 by 100,000 rows (4 minutes) on statistics that said "no open assignments".
ANALYZE_AFTER = 5_000
ANALYZED_AFTER_A_SWEEP = (Article, ReviewAssignment, Notification)


def refresh_planner_statistics() -> None:
    """ANALYZE the tables a large sweep changed (PostgreSQL; outside any transaction only, so
    that a caller's transaction, e.g. a test's, holds no lock it did not ask for)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for model in ANALYZED_AFTER_A_SWEEP:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def unpublish_past_grace(*, today: dt.date | None = None) -> list[str]:
    """Withdraw the live text of review_due articles whose policy's grace period ran out (the
    set-based withdraw, `services.bulk.withdraw`, with the review date and the grace as reason).
    Returns the slugs."""
    today = today or timezone.localdate()
    resolve = policy_table()
    graces = [p.unpublish_grace_days for p in ReviewPolicy.objects.filter(unpublish_grace_days__isnull=False)]
    if not graces:
        return []
    reasons: dict[int, str] = {}
    for pk, topic_id, risk_tier, review_due in Article.objects.filter(
            state=ArticleState.REVIEW_DUE, live_snapshot__isnull=False,
            next_review_due__lt=today - dt.timedelta(days=min(graces))).values_list(
            "pk", "topic_id", "risk_tier", "next_review_due").order_by("pk"):
        grace = resolve(topic_id, risk_tier).unpublish_grace_days
        if grace is None or review_due + dt.timedelta(days=grace) >= today:
            continue
        reasons[pk] = (f"review overdue since {review_due:%Y-%m-%d}: the review policy's grace period "
                       f"of {grace} days ran out")
    if not reasons:
        return []
    return bulk.withdraw(reasons, states=[ArticleState.REVIEW_DUE])
