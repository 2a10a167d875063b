"""The managing editor's request for a re-review of a live article (`request_re_review`:
published → review_due, a reason required), before its review date comes: new guidance, a
reader's report, a doubt about a source. The live text stays served; its snapshot's public
`review_reason` becomes `editor_request`, so the API and the page say `under_review` until a
newly approved text is published. The approvers of the live text are asked again as when the
review date passes (`services.bulk.request_re_reviews`). The request's own reason is internal: it
goes to the audit trail and to the board members asked, never to readers."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from articles.models import Article, PublishedSnapshot, ReviewReason
from governance.models import ChangeEvent
from governance.workflow import audit, rules
from governance.workflow.services import bulk
from governance.workflow.services.transitions import _authorize, _emit, _lock, _run


def article_request_re_review(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Send a published article back for re-review (check → change → save → audit → notify, in
    one transaction): the state to review_due, the live snapshot's `review_reason` to
    `editor_request`, an `article.request_re_review` audit event, a `review_due` changes-feed
    event and webhook, and a re-review request to each approver of the live text who may still
    review it. Refused without a reason (`reason_required`), from any other state
    (`state_allows_transition`), and for anyone but the managing editor (`may_request_re_review`)."""
    _authorize(actor, "request_re_review", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "request_re_review", reason=reason)
        reason = reason.strip()
        old = _run(locked, "request_re_review", actor)
        snapshot = PublishedSnapshot.objects.select_related("revision").get(pk=locked.live_snapshot_id)
        previous_reason = snapshot.review_reason
        if previous_reason != ReviewReason.EDITOR_REQUEST:
            PublishedSnapshot.objects.filter(pk=snapshot.pk).update(review_reason=ReviewReason.EDITOR_REQUEST)
        audit.record(action="article.request_re_review", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason,
                     data={"revision": snapshot.revision.content_hash,
                           "review_reason": {"from": previous_reason, "to": ReviewReason.EDITOR_REQUEST.value}})
        _emit(locked, ChangeEvent.Type.REVIEW_DUE, snapshot.revision.content_hash)
        bulk.request_re_reviews([bulk.flagged(locked, snapshot)],
                                     {locked.pk: f"the managing editor asked for it ({reason})"})
    return locked
