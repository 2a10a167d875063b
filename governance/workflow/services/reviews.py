"""Review assignments and the board members' signed decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import (
    Article,
    ArticleState,
)
from governance.workflow import audit, policies, rules, selectors, signatures
from governance.workflow.exceptions import (
    AssignmentRefused,
    ContentInvalid,
    NotPermitted,
    ReviewRefused,
)
from governance.workflow.services.transitions import _close_cycle, _lock, _run
from reviewers.models import BoardMember, Review, ReviewAssignment, ReviewCycle

# --- assignments and signed decisions -----------------------------------------------------------

ASSIGNABLE_STATES = (ArticleState.SUBMITTED, ArticleState.IN_REVIEW, ArticleState.REVIEW_DUE)


def assignment_create(*, article: Article, actor: Any, reviewer: BoardMember,
                      due_at: dt.datetime | None = None) -> ReviewAssignment:
    """The managing editor asks a board member to review. Refused (naming the rule) for the
    author, a reviewer with an active conflict of interest or an expired licence."""
    if not policies.may_assign(actor, article):
        raise NotPermitted("Only the managing editor assigns reviewers.", rule="may_assign")
    now = timezone.now()
    if due_at is not None and due_at < now:
        raise ContentInvalid({"due_at": ["The due date is in the past."]})
    with transaction.atomic():
        locked = _lock(article)
        if locked.state not in ASSIGNABLE_STATES:
            raise AssignmentRefused(
                f"Reviewers are assigned to submitted articles or articles under review, not to "
                f"'{locked.get_state_display()}'.", rule="state_allows_assignment")
        # The rules judge the stored (verified) facts, never the caller's copy of the member.
        reviewer = BoardMember.objects.select_related("user").get(pk=reviewer.pk)
        refusal = rules.reviewer_refusal(reviewer, locked)
        if refusal is not None:
            raise AssignmentRefused(refusal.message, rule=refusal.rule)
        policy = selectors.policy_for(locked)
        due_at = due_at or now + dt.timedelta(days=policy.assignment_due_days)
        try:
            with transaction.atomic():
                assignment = ReviewAssignment.objects.create(article=locked, reviewer=reviewer, assigned_by=actor,
                                                             due_at=due_at)
        except IntegrityError as exc:
            raise AssignmentRefused(f"{reviewer.printed_name} is already assigned to this article.",
                                    rule="not_already_assigned") from exc
        audit.record(action="assignment.create", obj=assignment, actor=actor, article=locked,
                     data={"reviewer": reviewer.user.get_username(), "due_at": due_at.isoformat()})
    return assignment


def assignment_cancel(*, assignment: ReviewAssignment, actor: Any, reason: str = "") -> ReviewAssignment:
    if not policies.may_assign(actor, assignment.article):
        raise NotPermitted("Only the managing editor cancels assignments.", rule="may_assign")
    with transaction.atomic():
        updated = ReviewAssignment.objects.filter(pk=assignment.pk, status=ReviewAssignment.Status.OPEN).update(
            status=ReviewAssignment.Status.CANCELLED)
        if not updated:
            raise AssignmentRefused("The assignment is no longer open.", rule="assignment_open")
        assignment.refresh_from_db()
        audit.record(action="assignment.cancel", obj=assignment, actor=actor, article=assignment.article,
                     reason=reason)
    return assignment


def review_record(*, assignment: ReviewAssignment, actor: Any, decision: str, password: str,
                  comments: str = "", path: str = signatures.PATHS.OTHER,
                  client_address: str | None = None) -> Review:
    """A board member's signed decision on the revision under review.

    The signer re-enters their password (the signature), checked by
    `signatures.signature_reauthenticate`: a wrong password signs nothing and is audited
    (`signature.failed`, with `path` — admin or api — and `client_address`), and too many of
    them lock signing (`SigningLocked`). The decision that completes the quorum approves the
    article; a request for changes sends it back to its author.
    """
    if not policies.may_review(actor, assignment):
        raise NotPermitted("Only the assigned reviewer can sign this review.", rule="assigned_reviewer")
    signatures.signature_reauthenticate(actor=actor, assignment=assignment, password=password, path=path,
                                        client_address=client_address)
    if decision in ("approve", "approved"):
        decision = Review.Decision.APPROVED
    elif decision in ("request_changes", "changes_requested"):
        decision = Review.Decision.CHANGES_REQUESTED
    else:
        raise ContentInvalid({"decision": [f"Unknown decision '{decision}'; use approve or request_changes."]})
    if decision == Review.Decision.CHANGES_REQUESTED and not comments.strip():
        raise ContentInvalid({"comments": ["Say what needs to change."]})

    with transaction.atomic():
        # The article row lock serializes decisions: two reviewers signing at once are each
        # counted exactly once, and only one of them completes the quorum.
        locked = Article.objects.select_for_update(of=("self",)).select_related("topic", "current_revision").get(
            pk=assignment.article_id)
        assignment = ReviewAssignment.objects.select_for_update(of=("self",)).select_related("reviewer").get(pk=assignment.pk)
        if assignment.status != ReviewAssignment.Status.OPEN:
            raise ReviewRefused("This assignment is no longer open.", rule="assignment_open")
        if locked.state != ArticleState.IN_REVIEW:
            raise ReviewRefused(f"The article is '{locked.get_state_display()}', not under review.",
                                rule="article_in_review")
        cycle = selectors.open_cycle(locked)
        if cycle is None or cycle.revision_id != locked.current_revision_id:
            raise ReviewRefused("No open review of the current revision.", rule="current_revision")
        member = assignment.reviewer
        refusal = rules.reviewer_refusal(member, locked)
        if refusal is not None:
            raise ReviewRefused(refusal.message, rule=refusal.rule)
        revision = locked.current_revision
        now = timezone.now()
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    cycle=cycle, assignment=assignment, article=locked, revision=revision, reviewer=member,
                    decision=decision, comments=comments.strip(),
                    signed_name=member.printed_name, signed_credentials=member.credentials,
                    signed_specialties=[s.name for s in member.specialties.all()],
                    signed_username=actor.get_username(), signed_at=now,
                    meaning=Review.MEANINGS[decision], revision_hash=revision.content_hash,
                )
        except IntegrityError as exc:
            raise ReviewRefused("You have already signed a decision in this review.", rule="one_decision") from exc
        assignment.status = ReviewAssignment.Status.COMPLETED
        assignment.completed_at = now
        assignment.save(update_fields=["status", "completed_at"])
        audit.record(action="review.sign", obj=review, actor=actor, article=locked,
                     data={"decision": decision, "meaning": review.meaning, "signed_name": review.signed_name,
                           "credentials": review.signed_credentials, "revision_hash": review.revision_hash},
                     reason=comments.strip())

        if decision == Review.Decision.CHANGES_REQUESTED:
            _close_cycle(locked, ReviewCycle.Outcome.CHANGES_REQUESTED)
            old = _run(locked, "request_changes", actor)
            audit.record(action="article.request_changes", obj=locked, actor=actor, article=locked,
                         from_state=old, to_state=locked.state, reason=comments.strip())
        elif rules.transition_allowed(locked, "approve"):
            policy = selectors.policy_for(locked)
            old = _run(locked, "approve", None)
            locked.last_reviewed_at = now
            locked.next_review_due = timezone.localdate(now) + dt.timedelta(days=policy.review_interval_days)
            locked.save()
            ReviewCycle.objects.filter(pk=cycle.pk).update(closed_at=now, outcome=ReviewCycle.Outcome.APPROVED)
            approvers = [r.signed_username for r in selectors.approvals_in_cycle(cycle)]
            audit.record(action="article.approve", obj=locked, article=locked, from_state=old,
                         to_state=locked.state, reason="quorum reached",
                         data={"approvers": approvers, "revision": revision.content_hash,
                               "next_review_due": locked.next_review_due.isoformat()})
    return review
