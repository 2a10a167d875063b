"""Writes behind the managing editor's reports: applying a confirmed review-date spread."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from articles.models import Article

from . import audit, policies, reports
from .exceptions import ContentInvalid, NotPermitted


def review_dates_spread(*, actor: Any, digest: str, today: dt.date | None = None) -> reports.SpreadPlan:
    """Apply the review-date spread the managing editor previewed and confirmed.

    The proposal is recomputed under lock and applied only if it is exactly the one previewed
    (`digest`): if any due date or the load changed meanwhile, nothing is written and the editor
    is asked to look at the new proposal. Each moved article gets its own audit event, all in one
    transaction. Only `next_review_due` changes; published snapshots stay as frozen.
    """
    if not policies.is_managing_editor(actor):
        raise NotPermitted("Only the managing editor spreads review dates.", rule="is_managing_editor")
    today = today or timezone.localdate()
    with transaction.atomic():
        plan = reports.spread_plan(today=today)
        if not digest or plan.digest != digest:
            raise ContentInvalid({"digest": [
                "The review dates changed since the preview; look at the new proposal before applying it."]})
        if not plan.moves:
            return plan
        locked = {a.pk: a for a in Article.objects.select_for_update().select_related("topic")
                  .filter(pk__in=[m.article_id for m in plan.moves])}
        for move in plan.moves:
            article = locked.get(move.article_id)
            if article is None or article.next_review_due != move.from_date:
                raise ContentInvalid({"digest": [
                    f"The review date of '{move.slug}' changed since the preview; nothing was applied."]})
            Article.objects.filter(pk=article.pk).update(next_review_due=move.to_date)
            article.next_review_due = move.to_date
            audit.record(
                action="article.review_date_spread", obj=article, actor=actor, article=article,
                reason=(f"Review brought forward from {move.from_date} to {move.to_date} to keep the board's "
                        f"weekly load within {plan.capacity}"),
                data={"from": move.from_date.isoformat(), "to": move.to_date.isoformat(),
                      "capacity": plan.capacity, "window_days": plan.window_days, "plan": digest},
            )
    return plan
