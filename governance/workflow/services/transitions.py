"""The editorial transitions of an article: one table, one runner.

`TRANSITIONS` names, for every transition of the state machine (`Article.state`), its audit
action and its side effects; its rules are `rules.TRANSITION_RULES[name]`, who may run it is
`policies.may_transition`. `run` is the one path every change of an article's state takes
(the bulk forms in `services.bulk` are its set-based twins, reading the same table):

    authorize (policies) → lock → rules.check → prepare hooks → FSM transition → save
    → apply hooks → audit → follow hooks (changes feed, webhook outbox, notifications)

all in one transaction. A hook is a function of the `Step` under way: *prepare* hooks run before
the state changes (close the review cycle, void approvals, cancel assignments), *apply* hooks
after it is saved and before the audit event, whose data they add to (the snapshot published,
the cycle opened), *follow* hooks after the audit event: the public consequences.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from articles.models import Article, ArticleState, PublishedSnapshot, ReviewReason
from governance.models import AuditEvent, ChangeEvent
from governance.workflow import audit, outbox, policies, rules, selectors, snapshots
from governance.workflow.exceptions import NotPermitted, TransitionRefused
from reviewers.models import Review, ReviewAssignment, ReviewCycle


@dataclass
class Step:
    """One transition under way: what its hooks read, and what they add to its audit event."""

    article: Article  # locked
    actor: Any
    reason: str
    context: dict[str, Any]  # the request's own facts (publish_at; the review cycle an approval closes)
    action: str  # the audit action (the table's; a hook may name a stricter one: article.void)
    from_state: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    found: dict[str, Any] = field(default_factory=dict)  # what a prepare hook read for a later hook


Hook = Callable[[Step], None]


@dataclass(frozen=True)
class Transition:
    name: str
    action: str
    prepare: tuple[Hook, ...] = ()
    apply: tuple[Hook, ...] = ()
    follow: tuple[Hook, ...] = ()
    method_args: tuple[str, ...] = ()  # context passed to the model's transition method

    @property
    def rules(self) -> list[rules.Rule]:
        return rules.TRANSITION_RULES[self.name]


# --- hooks ----------------------------------------------------------------------------------------

def close_cycle(outcome: str) -> Hook:
    def hook(step: Step) -> None:
        ReviewCycle.objects.filter(article=step.article, closed_at__isnull=True).update(
            closed_at=timezone.now(), outcome=outcome)

    hook.__name__ = f"close_cycle_{outcome}"
    return hook


def cancel_open_assignments(step: Step) -> None:
    """A withdrawn or archived article has nothing left to review: take it off reviewers' queues."""
    ReviewAssignment.objects.filter(article=step.article, status=ReviewAssignment.Status.OPEN).update(
        status=ReviewAssignment.Status.CANCELLED)


def void_approvals(step: Step) -> None:
    """Void the signed approvals of the working revision if it was approved (its text is about to
    change); the audit action is then `article.void`. Only the cycle that approved it now: after
    a re-review of a live article the same revision also carries the approvals its live snapshot
    was published with, and those still stand."""
    article = step.article
    if article.state not in (ArticleState.APPROVED, ArticleState.SCHEDULED):
        return
    step.action = "article.void"
    now = timezone.now()
    cycle = (ReviewCycle.objects.filter(article=article, revision_id=article.current_revision_id,
                                        outcome=ReviewCycle.Outcome.APPROVED).order_by("-closed_at").first())
    for review in Review.objects.filter(cycle=cycle, voided_at__isnull=True) if cycle else []:
        review.voided_at, review.void_reason = now, step.reason
        review.save(update_fields=["voided_at", "void_reason"])
        audit.record(action="review.void", obj=review, actor=step.actor, article=article, reason=step.reason)


def note_revision(step: Step) -> None:
    step.data["revision"] = step.article.current_revision.content_hash


def read_policy(step: Step) -> None:
    step.found["policy"] = selectors.policy_for(step.article)


def open_cycle(step: Step) -> None:
    """A review cycle of the working revision, with the quorum and specialties of the policy now."""
    article, policy = step.article, step.found["policy"]
    cycle = ReviewCycle.objects.create(article=article, revision=article.current_revision,
                                       approvals_required=policy.approvals_required)
    if policy.policy is not None:
        cycle.required_specialties.set(policy.policy.required_specialties.all())
    step.data.update(revision=article.current_revision.content_hash, approvals_required=policy.approvals_required,
                     required_specialties=sorted(policy.required_specialties))


def set_review_dates(step: Step) -> None:
    """The quorum approved the working revision: reviewed now, due again after the policy's interval."""
    article, now = step.article, step.context.get("at") or timezone.now()
    cycle = step.context["cycle"]
    article.last_reviewed_at = now
    article.next_review_due = timezone.localdate(now) + dt.timedelta(
        days=selectors.policy_for(article).review_interval_days)
    article.save()
    ReviewCycle.objects.filter(pk=cycle.pk).update(closed_at=now, outcome=ReviewCycle.Outcome.APPROVED)
    step.data.update(approvers=[r.signed_username for r in selectors.approvals_in_cycle(cycle)],
                     revision=article.current_revision.content_hash,
                     next_review_due=article.next_review_due.isoformat())


def read_approvals(step: Step) -> None:
    """What a publication freezes: the approvals of the cycle that approved the working revision."""
    article = step.article
    step.found["was_live"] = article.live_snapshot_id is not None
    cycle = (ReviewCycle.objects.filter(article=article, revision_id=article.current_revision_id,
                                        outcome=ReviewCycle.Outcome.APPROVED).order_by("-closed_at").first())
    step.found["approvals"] = list(selectors.approvals_in_cycle(cycle)) if cycle else []


def freeze_snapshot(step: Step) -> None:
    article, now = step.article, timezone.now()
    if article.first_published_at is None:
        article.first_published_at = now
    snapshot = snapshots.create(article=article, revision=article.current_revision,
                                approvals=step.found["approvals"], published_at=now, published_by=step.actor)
    article.live_snapshot = snapshot
    article.withdrawn_at = None
    article.withdrawn_reason = ""
    article.save()
    step.found["snapshot"] = snapshot
    step.data.update(revision=snapshot.revision.content_hash, etag=snapshot.etag, snapshot=snapshot.pk)


def emit_published(step: Step) -> None:
    emit(step.article, ChangeEvent.Type.UPDATED if step.found["was_live"] else ChangeEvent.Type.PUBLISHED,
         step.found["snapshot"].revision.content_hash)


def note_publish_at(step: Step) -> None:
    step.data["publish_at"] = step.context["publish_at"].isoformat()


def mark_editor_request(step: Step) -> None:
    """The live snapshot says publicly why it is under review (`review_reason`: editor_request)."""
    snapshot = PublishedSnapshot.objects.select_related("revision").get(pk=step.article.live_snapshot_id)
    previous = snapshot.review_reason
    if previous != ReviewReason.EDITOR_REQUEST:
        PublishedSnapshot.objects.filter(pk=snapshot.pk).update(review_reason=ReviewReason.EDITOR_REQUEST)
    step.found["snapshot"] = snapshot
    step.data.update(revision=snapshot.revision.content_hash,
                     review_reason={"from": previous, "to": ReviewReason.EDITOR_REQUEST.value})


def read_live_snapshot(step: Step) -> None:
    if step.article.live_snapshot_id is not None:
        step.found["snapshot"] = PublishedSnapshot.objects.select_related("revision").get(
            pk=step.article.live_snapshot_id)


def emit_review_due(step: Step) -> None:
    snapshot = step.found.get("snapshot")
    emit(step.article, ChangeEvent.Type.REVIEW_DUE, snapshot.revision.content_hash if snapshot else "")


def request_re_reviews(step: Step) -> None:
    """Ask the approvers of the live text who may still review it to review it again (as the
    bulk flag does: `services.bulk.request_re_reviews`)."""
    from governance.workflow.services import bulk  # bulk builds on this module's table

    snapshot = step.found.get("snapshot")
    if snapshot is not None:
        why = step.context.get("asked_because") or step.reason
        bulk.request_re_reviews([bulk.flagged(step.article, snapshot)], {step.article.pk: why})


def take_down(step: Step) -> None:
    """The live text, if any, is taken down: a tombstone in the API, the feed and the webhooks."""
    article = step.article
    if article.live_snapshot_id is None:
        return
    revision_hash = article.live_snapshot.revision.content_hash
    article.live_snapshot = None
    article.withdrawn_at = timezone.now()
    article.withdrawn_reason = step.reason.strip()
    article.save()
    snapshots.relink(article, None)  # the live articles related to it stop linking it
    emit(article, ChangeEvent.Type.WITHDRAWN, revision_hash)


def emit(article: Any, type: str, revision_hash: str) -> None:
    """Public consequences of a change: the changes feed and the webhook outbox."""
    audit.record_change(type=type, article=article, revision_hash=revision_hash)
    outbox.enqueue(article=article, type=type, revision_hash=revision_hash)


# --- the table ------------------------------------------------------------------------------------

_S = ReviewCycle.Outcome
_ENDS = (close_cycle(_S.WITHDRAWN), cancel_open_assignments)  # withdraw, archive: nothing left to review
TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    Transition("submit", "article.submit", apply=(note_revision,)),
    Transition("start_review", "article.start_review", prepare=(read_policy,), apply=(open_cycle,)),
    Transition("request_changes", "article.request_changes", prepare=(close_cycle(_S.CHANGES_REQUESTED),)),
    Transition("approve", "article.approve", apply=(set_review_dates,)),
    Transition("publish", "article.publish", prepare=(read_approvals,), apply=(freeze_snapshot,),
               follow=(emit_published,)),
    Transition("schedule", "article.schedule", apply=(note_publish_at,), method_args=("publish_at",)),
    Transition("flag_review_due", "article.flag_review_due", prepare=(read_live_snapshot,),
               follow=(emit_review_due, request_re_reviews)),
    Transition("request_re_review", "article.request_re_review", apply=(mark_editor_request,),
               follow=(emit_review_due, request_re_reviews)),
    Transition("withdraw", "article.withdraw", prepare=_ENDS, follow=(take_down,), method_args=("reason",)),
    Transition("revise", "article.revise", prepare=(void_approvals, close_cycle(_S.VOIDED))),
    Transition("archive", "article.archive", prepare=_ENDS, follow=(take_down,)),
)}


# --- the runner -----------------------------------------------------------------------------------

def run(name: str, *, article: Article, actor: Any, reason: str = "", system: bool = False,
        **context: Any) -> Article:
    """Run transition `name` on `article` (see the module docstring), as `actor`; `system` runs
    one no person may run (the quorum's approval, the review date's flag), with `actor` None.
    Refused (TransitionRefused / NotPermitted) naming the rule; returns the locked article."""
    spec = _spec(name)
    if not system and not policies.may_transition(actor, name, article):
        raise NotPermitted(f"You may not run '{name}' on this article.", rule=f"may_{name}")
    with transaction.atomic():
        return run_locked(spec.name, article=lock(article), actor=actor, reason=reason, **context)


def run_locked(name: str, *, article: Article, actor: Any, reason: str = "", **context: Any) -> Article:
    """`run` on an article the caller already locked (in its transaction), authorized by the
    caller: a signed decision runs approve or request_changes this way."""
    spec = _spec(name)
    rules.check(article, name, reason=reason, **context)
    step = Step(article=article, actor=actor, reason=reason.strip(), context=context, action=spec.action)
    for hook in spec.prepare:
        hook(step)
    given = {"reason": step.reason, **context}
    step.from_state = _change_state(article, name, **{arg: given.get(arg) for arg in spec.method_args})
    for hook in spec.apply:
        hook(step)
    audit.record(action=step.action, obj=article, actor=actor, article=article, from_state=step.from_state,
                 to_state=article.state, reason=step.reason, data=step.data or None)
    for hook in spec.follow:
        hook(step)
    return article


def _spec(name: str) -> Transition:
    if name not in TRANSITIONS:
        raise TransitionRefused(f"There is no transition '{name}' to run.", rule="unknown_transition")
    return TRANSITIONS[name]


def lock(article: Article) -> Article:
    """Lock the article row for this transaction and refuse if the caller's copy is stale."""
    locked = Article.objects.select_for_update(of=("self",)).select_related("topic").get(pk=article.pk)
    if article.state != locked.state:
        raise TransitionRefused(
            f"The article changed since it was loaded: it is now '{locked.get_state_display()}', "
            f"not '{article.get_state_display()}'. Reload and try again.",
            rule="stale_state",
        )
    return locked


def _change_state(article: Article, name: str, **kwargs: Any) -> str:
    """The one place an article's state changes one article at a time: the model's transition
    method (which sets fields only), then save. Returns the old state."""
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


# --- the services: each a named entry to the runner -----------------------------------------------

def article_transition(*, article: Article, actor: Any, name: str, reason: str = "",
                       publish_at: dt.datetime | None = None) -> Article:
    """Run a named editorial transition (what the admin's, the editor's and the API's buttons call).
    The system's transitions (approve, flag_review_due) are not among them: `unknown_transition`."""
    if name in policies.SYSTEM_TRANSITIONS:  # nobody runs them by name
        raise TransitionRefused(f"There is no transition '{name}' to run.", rule="unknown_transition")
    context = {"publish_at": publish_at} if name == "schedule" else {}
    return run(name, article=article, actor=actor, reason=reason, **context)


def article_submit(*, article: Article, actor: Any, reason: str = "") -> Article:
    """The author hands the working revision over for review."""
    return run("submit", article=article, actor=actor, reason=reason)


def article_revise(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Take the working revision back to draft (voiding approvals if it was approved)."""
    return run("revise", article=article, actor=actor, reason=reason)


def article_start_review(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Open a review cycle of the working revision for the assigned board members."""
    return run("start_review", article=article, actor=actor, reason=reason)


def article_request_changes(*, article: Article, actor: Any, reason: str = "") -> Article:
    """The managing editor sends the working revision back to its author."""
    return run("request_changes", article=article, actor=actor, reason=reason)


def article_publish(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Freeze the approved revision into a PublishedSnapshot and serve it."""
    return run("publish", article=article, actor=actor, reason=reason)


def article_schedule(*, article: Article, actor: Any, publish_at: dt.datetime | None, reason: str = "") -> Article:
    """Publish the approved revision automatically at `publish_at`."""
    return run("schedule", article=article, actor=actor, reason=reason, publish_at=publish_at)


def article_request_re_review(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Send a published article back for re-review before its review date: the state to
    review_due, the live snapshot's public `review_reason` to `editor_request` (the API and the
    page say `under_review` until a newly approved text is published), an
    `article.request_re_review` audit event, a `review_due` changes-feed event and webhook, and a
    re-review request to each approver of the live text who may still review it. The request's
    reason is internal: the audit trail and the board members asked, never readers. Refused
    without a reason (`reason_required`), from any other state (`state_allows_transition`), and
    for anyone but the managing editor (`may_request_re_review`)."""
    return run("request_re_review", article=article, actor=actor, reason=reason,
               asked_because=f"the managing editor asked for it ({reason.strip()})")


def article_withdraw(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Take the live text down (a tombstone in the API and the feed). A reason is required."""
    return run("withdraw", article=article, actor=actor, reason=reason)


def article_archive(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Retire the article for good; a live text is withdrawn (then a reason is required)."""
    return run("archive", article=article, actor=actor, reason=reason)


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
                run_locked("publish", article=locked, actor=None, reason="scheduled publication")
            except TransitionRefused as exc:
                _audit_schedule_failed_once(locked, exc)
                continue
            published.append(locked.slug)
    return published


def _audit_schedule_failed_once(locked: Article, exc: TransitionRefused) -> None:
    """Beat retries every minute: audit the failure once per scheduling, not once a minute."""
    scheduled_seq = (AuditEvent.objects.filter(article_id=locked.pk, action="article.schedule")
                     .order_by("-seq").values_list("seq", flat=True).first() or 0)
    if not AuditEvent.objects.filter(article_id=locked.pk, action="article.schedule_failed",
                                     seq__gt=scheduled_seq).exists():
        audit.record(action="article.schedule_failed", obj=locked, article=locked, reason=str(exc),
                     data={"rule": exc.rule})
