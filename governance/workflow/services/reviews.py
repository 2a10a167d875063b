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
from governance.workflow.services.transitions import lock, run_locked
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
        locked = lock(article)
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
    article; a request for changes sends it back to its author (both through the transition
    runner, in the same transaction as the signature).
    """
    if not policies.may_review(actor, assignment):
        raise NotPermitted("Only the assigned reviewer can sign this review.", rule="assigned_reviewer")
    signatures.signature_reauthenticate(actor=actor, assignment=assignment, password=password, path=path,
                                        client_address=client_address)
    decision = _decision(decision, comments)
    with transaction.atomic():
        # The article row lock serializes decisions: two reviewers signing at once are each
        # counted exactly once, and only one of them completes the quorum.
        locked = Article.objects.select_for_update(of=("self",)).select_related("topic", "current_revision").get(
            pk=assignment.article_id)
        assignment = ReviewAssignment.objects.select_for_update(of=("self",)).select_related("reviewer").get(pk=assignment.pk)
        cycle = _open_review_of(locked, assignment)
        review = _sign(locked, cycle, assignment, actor=actor, decision=decision, comments=comments.strip())
        if decision == Review.Decision.CHANGES_REQUESTED:
            run_locked("request_changes", article=locked, actor=actor, reason=comments.strip())
        elif rules.transition_allowed(locked, "approve"):
            run_locked("approve", article=locked, actor=None, reason="quorum reached", cycle=cycle,
                       at=review.signed_at)
    return review


def _decision(decision: str, comments: str) -> str:
    if decision in ("approve", "approved"):
        return Review.Decision.APPROVED
    if decision in ("request_changes", "changes_requested"):
        if not comments.strip():
            raise ContentInvalid({"comments": ["Say what needs to change."]})
        return Review.Decision.CHANGES_REQUESTED
    raise ContentInvalid({"decision": [f"Unknown decision '{decision}'; use approve or request_changes."]})


def _open_review_of(locked: Article, assignment: ReviewAssignment) -> ReviewCycle:
    """The open review cycle of the current revision that `assignment`'s reviewer may decide in
    (both rows locked by the caller), or ReviewRefused naming the rule."""
    if assignment.status != ReviewAssignment.Status.OPEN:
        raise ReviewRefused("This assignment is no longer open.", rule="assignment_open")
    if locked.state != ArticleState.IN_REVIEW:
        raise ReviewRefused(f"The article is '{locked.get_state_display()}', not under review.",
                            rule="article_in_review")
    cycle = selectors.open_cycle(locked)
    if cycle is None or cycle.revision_id != locked.current_revision_id:
        raise ReviewRefused("No open review of the current revision.", rule="current_revision")
    refusal = rules.reviewer_refusal(assignment.reviewer, locked)
    if refusal is not None:
        raise ReviewRefused(refusal.message, rule=refusal.rule)
    return cycle


def _sign(locked: Article, cycle: ReviewCycle, assignment: ReviewAssignment, *, actor: Any, decision: str,
          comments: str) -> Review:
    """The signed Review (name, credentials, meaning and revision hash as of now), the assignment
    completed, and the `review.sign` audit event."""
    member, revision, now = assignment.reviewer, locked.current_revision, timezone.now()
    try:
        with transaction.atomic():
            review = Review.objects.create(
                cycle=cycle, assignment=assignment, article=locked, revision=revision, reviewer=member,
                decision=decision, comments=comments,
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
                 reason=comments)
    return review
