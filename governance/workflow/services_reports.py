"""Writes behind the managing editor's reports: applying a confirmed review-date spread."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Case, DateField, Value, When
from django.utils import timezone

from articles.models import Article
from governance.reports import review_dates
from governance.workflow import audit, policies, snapshots
from governance.workflow.exceptions import ContentInvalid, NotPermitted


def review_dates_spread(*, actor: Any, digest: str, today: dt.date | None = None) -> review_dates.SpreadPlan:
    """Apply the review-date spread the managing editor previewed and confirmed.

    In one transaction: the rows of the live articles due within the report's horizon are locked
    first (in primary-key order), then the proposal is recomputed from them and applied only if
    it is exactly the one previewed (`digest`): if any due date, the load or the policy's capacity
    changed meanwhile, nothing is written and the editor is asked to look at the new proposal.
    The moves are one set-based UPDATE and one `record_many` (an `article.review_date_spread`
    event per moved article); the live snapshots serve the new dates at once, in the same
    transaction (`snapshots.refresh_review_dates`: their `next_review_due`, documents, response
    texts and ETag; one lock query and one UPDATE), with no changes-feed event or webhook (the
    approved text did not change; a mirror sees the new date when it revalidates). An article
    whose due date enters the horizon while this runs is not locked (a row lock cannot hold a row
    that does not match yet); it is counted by the next report.
    """
    if not policies.is_managing_editor(actor):
        raise NotPermitted("Only the managing editor spreads review dates.", rule="is_managing_editor")
    today = today or timezone.localdate()
    with transaction.atomic():
        live_snapshot = dict(review_dates._load_queryset(today).select_for_update(of=("self",)).order_by("pk")
                             .values_list("pk", "live_snapshot_id"))
        plan = review_dates.spread_plan(today=today)  # from the rows just locked
        if not digest or plan.digest != digest:
            raise ContentInvalid({"digest": [
                "The review dates changed since the preview; look at the new proposal before applying it."]})
        if not plan.moves:
            return plan
        to_date = {m.article_id: m.to_date for m in plan.moves}
        updated = Article.objects.filter(pk__in=list(to_date)).update(
            next_review_due=Case(*[When(pk=pk, then=Value(day)) for pk, day in to_date.items()],
                                 output_field=DateField()))
        if updated != len(plan.moves) or not set(to_date) <= set(live_snapshot):
            # cannot happen under the lock; never write half a plan
            raise ContentInvalid({"digest": ["The review dates changed since the preview; nothing was applied."]})
        snapshots.refresh_review_dates({live_snapshot[pk]: day for pk, day in to_date.items()})
        audit.record_many((
            audit.PendingEvent(
                action="article.review_date_spread", object_type=Article._meta.label_lower,
                object_id=str(move.article_id), object_repr=move.title[:300], article_id=move.article_id,
                article_slug=move.slug,
                reason=(f"Review brought forward from {move.from_date} to {move.to_date} to keep the board's "
                        f"weekly load within {plan.capacity}"),
                data={"from": move.from_date.isoformat(), "to": move.to_date.isoformat(),
                      "capacity": plan.capacity, "window_days": plan.window_days, "plan": digest})
            for move in plan.moves), actor=actor)
    return plan
