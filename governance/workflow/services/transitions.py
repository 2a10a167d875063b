"""The editorial transitions of an article (submit, start review, publish, withdraw…)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from articles.models import (
    Article,
    ArticleState,
)
from governance.models import AuditEvent, ChangeEvent
from governance.workflow import audit, outbox, policies, rules, selectors, snapshots
from governance.workflow.exceptions import (
    NotPermitted,
    TransitionRefused,
)
from reviewers.models import Review, ReviewAssignment, ReviewCycle


def _lock(article: Article) -> Article:
    """Lock the article row for this transaction and refuse if the caller's copy is stale."""
    locked = Article.objects.select_for_update(of=("self",)).select_related("topic").get(pk=article.pk)
    if article.state != locked.state:
        raise TransitionRefused(
            f"The article changed since it was loaded: it is now '{locked.get_state_display()}', "
            f"not '{article.get_state_display()}'. Reload and try again.",
            rule="stale_state",
        )
    return locked


def _close_cycle(article: Article, outcome: str) -> None:
    ReviewCycle.objects.filter(article=article, closed_at__isnull=True).update(
        closed_at=timezone.now(), outcome=outcome
    )


def _cancel_open_assignments(article: Article) -> None:
    """A withdrawn or archived article has nothing left to review: take it off reviewers' queues."""
    ReviewAssignment.objects.filter(article=article, status=ReviewAssignment.Status.OPEN).update(
        status=ReviewAssignment.Status.CANCELLED)


def _void_approvals(article: Article, *, actor: Any, reason: str) -> None:
    """Void the signed approvals of the working revision (an approved text is about to change).

    Only the cycle that approved it now: after a re-review of a live article the same revision
    also carries the approvals its live snapshot was published with, and those still stand."""
    now = timezone.now()
    cycle = (ReviewCycle.objects.filter(article=article, revision_id=article.current_revision_id,
                                        outcome=ReviewCycle.Outcome.APPROVED).order_by("-closed_at").first())
    reviews = Review.objects.filter(cycle=cycle, voided_at__isnull=True) if cycle else Review.objects.none()
    for review in reviews:
        review.voided_at, review.void_reason = now, reason
        review.save(update_fields=["voided_at", "void_reason"])
        audit.record(action="review.void", obj=review, actor=actor, article=article, reason=reason)


def _run(article: Article, name: str, actor: Any, **kwargs: Any) -> str:
    """Apply transition `name` on a locked article and save it; return the old state."""
    old = article.state
    try:
        getattr(article, name)(**kwargs)
        article.save()
    except TransitionNotAllowed as exc:
        raise TransitionRefused(
            f"'{name}' is not possible from '{article.get_state_display()}'.", rule="state_allows_transition"
        ) from exc
    except ConcurrentTransition as exc:
        raise TransitionRefused("Another change to this article won the race; reload and retry.",
                                rule="stale_state") from exc
    return old


def _revise(article: Article, *, actor: Any, reason: str) -> None:
    voids = article.state in (ArticleState.APPROVED, ArticleState.SCHEDULED)
    if voids:
        _void_approvals(article, actor=actor, reason=reason)
    _close_cycle(article, ReviewCycle.Outcome.VOIDED)
    old = _run(article, "revise", actor)
    audit.record(action="article.void" if voids else "article.revise", obj=article, actor=actor, article=article,
                 from_state=old, to_state=article.state, reason=reason)


# --- transitions --------------------------------------------------------------------------------

def _authorize(actor: Any, name: str, article: Article) -> None:
    if not policies.may_transition(actor, name, article):
        raise NotPermitted(f"You may not run '{name}' on this article.", rule=f"may_{name}")


def article_transition(*, article: Article, actor: Any, name: str, reason: str = "",
                       publish_at: dt.datetime | None = None) -> Article:
    """Run a named editorial transition (what the admin's and the API's buttons call)."""
    handlers = {
        "submit": article_submit,
        "start_review": article_start_review,
        "request_changes": article_request_changes,
        "publish": article_publish,
        "schedule": article_schedule,
        "withdraw": article_withdraw,
        "archive": article_archive,
        "revise": article_revise,
    }
    if name == "request_re_review":
        from governance.workflow.re_review import article_request_re_review  # it builds on this module's helpers

        handlers[name] = article_request_re_review
    if name not in handlers:
        raise TransitionRefused(f"There is no transition '{name}' to run.", rule="unknown_transition")
    kwargs: dict[str, Any] = {"article": article, "actor": actor}
    if name in ("request_changes", "withdraw", "archive", "revise", "start_review", "submit", "publish",
                "request_re_review"):
        kwargs["reason"] = reason
    if name == "schedule":
        kwargs.update(publish_at=publish_at, reason=reason)
    return handlers[name](**kwargs)


def article_submit(*, article: Article, actor: Any, reason: str = "") -> Article:
    """The author hands the working revision over for review."""
    _authorize(actor, "submit", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "submit")
        old = _run(locked, "submit", actor)
        audit.record(action="article.submit", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason,
                     data={"revision": locked.current_revision.content_hash})
    return locked


def article_revise(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Take the working revision back to draft (voiding approvals if it was approved)."""
    _authorize(actor, "revise", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "revise", reason=reason)
        _revise(locked, actor=actor, reason=reason)
    return locked


def article_start_review(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Open a review cycle of the working revision for the assigned board members."""
    _authorize(actor, "start_review", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "start_review")
        policy = selectors.policy_for(locked)
        old = _run(locked, "start_review", actor)
        cycle = ReviewCycle.objects.create(article=locked, revision=locked.current_revision,
                                           approvals_required=policy.approvals_required)
        if policy.policy is not None:
            cycle.required_specialties.set(policy.policy.required_specialties.all())
        audit.record(action="article.start_review", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason,
                     data={"revision": locked.current_revision.content_hash,
                           "approvals_required": policy.approvals_required,
                           "required_specialties": sorted(policy.required_specialties)})
    return locked


def article_request_changes(*, article: Article, actor: Any, reason: str = "") -> Article:
    """The managing editor sends the working revision back to its author."""
    _authorize(actor, "request_changes", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "request_changes", reason=reason)
        _close_cycle(locked, ReviewCycle.Outcome.CHANGES_REQUESTED)
        old = _run(locked, "request_changes", actor)
        audit.record(action="article.request_changes", obj=locked, actor=actor, article=locked,
                     from_state=old, to_state=locked.state, reason=reason)
    return locked


def _emit(article: Article, type: str, revision_hash: str) -> None:
    """Public consequences of a change: the changes feed (and the webhook outbox)."""
    audit.record_change(type=type, article=article, revision_hash=revision_hash)
    outbox.enqueue(article=article, type=type, revision_hash=revision_hash)


def _publish_locked(locked: Article, *, actor: Any, reason: str = "") -> Article:
    rules.check(locked, "publish")
    was_live = locked.live_snapshot_id is not None
    now = timezone.now()
    cycle = (ReviewCycle.objects.filter(article=locked, revision_id=locked.current_revision_id,
                                        outcome=ReviewCycle.Outcome.APPROVED).order_by("-closed_at").first())
    approvals = list(selectors.approvals_in_cycle(cycle)) if cycle else []
    old = _run(locked, "publish", actor)
    if locked.first_published_at is None:
        locked.first_published_at = now
    snapshot = snapshots.create(article=locked, revision=locked.current_revision, approvals=approvals,
                                published_at=now, published_by=actor)
    locked.live_snapshot = snapshot
    locked.withdrawn_at = None
    locked.withdrawn_reason = ""
    locked.save()
    audit.record(action="article.publish", obj=locked, actor=actor, article=locked, from_state=old,
                 to_state=locked.state, reason=reason,
                 data={"revision": snapshot.revision.content_hash, "etag": snapshot.etag,
                       "snapshot": snapshot.pk})
    _emit(locked, ChangeEvent.Type.UPDATED if was_live else ChangeEvent.Type.PUBLISHED,
          snapshot.revision.content_hash)
    return locked


def article_publish(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Freeze the approved revision into a PublishedSnapshot and serve it."""
    _authorize(actor, "publish", article)
    with transaction.atomic():
        return _publish_locked(_lock(article), actor=actor, reason=reason)


def article_schedule(*, article: Article, actor: Any, publish_at: dt.datetime | None, reason: str = "") -> Article:
    """Publish the approved revision automatically at `publish_at`."""
    _authorize(actor, "schedule", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "schedule", publish_at=publish_at)
        old = _run(locked, "schedule", actor, publish_at=publish_at)
        audit.record(action="article.schedule", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason, data={"publish_at": publish_at.isoformat()})
    return locked


def publish_scheduled_due(*, now: dt.datetime | None = None) -> list[str]:
    """Publish every scheduled article whose time has come (run by beat); returns their slugs."""
    now = now or timezone.now()
    published = []
    for pk in Article.objects.filter(state=ArticleState.SCHEDULED, publish_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            locked = Article.objects.select_for_update().get(pk=pk)
            if locked.state != ArticleState.SCHEDULED:
                continue  # another worker got there first
            try:
                _publish_locked(locked, actor=None, reason="scheduled publication")
            except TransitionRefused as exc:
                # Beat retries every minute: audit the failure once per scheduling, not once a minute.
                scheduled_seq = (AuditEvent.objects.filter(article_id=pk, action="article.schedule")
                                 .order_by("-seq").values_list("seq", flat=True).first() or 0)
                if not AuditEvent.objects.filter(article_id=pk, action="article.schedule_failed",
                                                 seq__gt=scheduled_seq).exists():
                    audit.record(action="article.schedule_failed", obj=locked, article=locked, reason=str(exc),
                                 data={"rule": exc.rule})
                continue
            published.append(locked.slug)
    return published


def _take_down(locked: Article, *, actor: Any, reason: str) -> None:
    if locked.live_snapshot_id is None:
        return
    revision_hash = locked.live_snapshot.revision.content_hash
    locked.live_snapshot = None
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_reason = reason
    locked.save()
    snapshots.relink(locked, None)  # the live articles related to it stop linking it
    _emit(locked, ChangeEvent.Type.WITHDRAWN, revision_hash)


def article_withdraw(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Take the live text down (a tombstone in the API and the feed). A reason is required."""
    _authorize(actor, "withdraw", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "withdraw", reason=reason)
        _close_cycle(locked, ReviewCycle.Outcome.WITHDRAWN)
        _cancel_open_assignments(locked)
        old = _run(locked, "withdraw", actor, reason=reason)
        audit.record(action="article.withdraw", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason)
        _take_down(locked, actor=actor, reason=reason)
    return locked


def article_unpublish_overdue(*, article: Article, reason: str) -> Article:
    """System: a policy's grace period after the review date ran out; withdraw the live text."""
    with transaction.atomic():
        locked = _lock(article)
        _close_cycle(locked, ReviewCycle.Outcome.WITHDRAWN)
        _cancel_open_assignments(locked)
        old = _run(locked, "withdraw", None, reason=reason)
        audit.record(action="article.withdraw", obj=locked, article=locked, from_state=old,
                     to_state=locked.state, reason=reason)
        _take_down(locked, actor=None, reason=reason)
    return locked


def article_archive(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Retire the article for good; a live text is withdrawn (then a reason is required)."""
    _authorize(actor, "archive", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "archive", reason=reason)
        _close_cycle(locked, ReviewCycle.Outcome.WITHDRAWN)
        _cancel_open_assignments(locked)
        old = _run(locked, "archive", actor)
        audit.record(action="article.archive", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason)
        _take_down(locked, actor=actor, reason=reason.strip())  # required when live (rules)
    return locked


def article_flag_review_due(*, article: Article, reason: str, actor: Any = None) -> Article | None:
    """System: a published article needs re-review (interval elapsed, or a cited reference was
    retracted). Still served, flagged review_overdue. Returns None if it was not published."""
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if locked.state != ArticleState.PUBLISHED:
            return None
        old = _run(locked, "flag_review_due", actor)
        audit.record(action="article.flag_review_due", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason)
        _emit(locked, ChangeEvent.Type.REVIEW_DUE, locked.live_snapshot.revision.content_hash
              if locked.live_snapshot_id else "")
    return locked
