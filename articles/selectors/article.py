"""One article in the editor UI: the transitions the user may run with their checklists, approval progress,
reviewer suggestions, the audit timeline, assignments and signed reviews."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from articles.models import Article, ArticleState
from governance.models import AuditEvent
from governance.workflow import policies, rules
from governance.workflow import selectors as governance_selectors
from reviewers.models import BoardMember, Review, ReviewAssignment

# --- one article -----------------------------------------------------------------------------

TRANSITION_ORDER = ("submit", "start_review", "request_changes", "publish", "schedule", "request_re_review", "revise",
                    "withdraw", "archive")
REASON_SUGGESTED = {"request_changes", "revise", "archive"}


@dataclass
class TransitionOption:
    name: str
    label: str
    target: str
    checklist: list[rules.RuleResult]
    needs_reason: bool
    suggests_reason: bool
    needs_publish_at: bool

    @property
    def ready(self) -> bool:
        """Every rule about the article is met (what the form asks for aside)."""
        return all(item.ok for item in self.checklist if not rules.is_context_rule(item.rule))


def transition_options(user: Any, article: Article) -> list[TransitionOption]:
    """The transitions `user` may run from the article's state (the policy decides), each with the
    checklist of its rules, met or not, and what it asks for (`rules.checklist_before`)."""
    field_ = Article._meta.get_field("state")
    by_name = {}
    for transition in field_.get_all_transitions(Article):
        if transition.name in policies.SYSTEM_TRANSITIONS:
            continue
        if transition.source not in (article.state, "*", "+"):  # "+": any state but the target
            continue
        if transition.target == article.state:
            continue
        by_name.setdefault(transition.name, transition)
    options = []
    for name in TRANSITION_ORDER:
        transition = by_name.get(name)
        if transition is None or not policies.may_transition(user, name, article):
            continue
        if name == "withdraw" and not rules.has_live_text(article, {}).ok:
            continue  # nothing is live: withdrawing cannot apply (archive retires a never-published article)
        asked = rules.asks(article, name)
        options.append(TransitionOption(
            name=name, label=transition.custom.get("label", name.replace("_", " ").capitalize()),
            target=ArticleState(transition.target).label, checklist=rules.checklist_before(article, name),
            needs_reason="reason" in asked, suggests_reason=name in REASON_SUGGESTED,
            needs_publish_at="publish_at" in asked,
        ))
    return options


@dataclass
class UndecidedReviewer:
    assignment: ReviewAssignment
    specialties: list[str]
    covers_missing: list[str]
    refusal: rules.RuleResult | None


@dataclass
class ApprovalProgress:
    """Where the review stands against the `approve` rules (a system transition, so not among the
    transition options): approvals so far, required specialties still missing, reviewers who have
    not decided yet, and what to do about each gap."""

    approvals: int
    required: int
    checklist: list[rules.RuleResult]
    approved_by: list[Review]
    missing_specialties: list[str]
    undecided: list[UndecidedReviewer]
    hints: list[str]

    @property
    def complete(self) -> bool:
        return all(item.ok for item in self.checklist)

    @property
    def summary(self) -> str:
        text = f"{self.approvals} of {self.required} approval{'s' if self.required != 1 else ''}"
        if self.missing_specialties:
            text += f"; needs an approval from {', '.join(self.missing_specialties)}"
        return text


def _as_read_by(refusal: rules.RuleResult | None, member: BoardMember, reader: Any) -> rules.RuleResult | None:
    """A refusal as `reader` may read it: why a reviewer is conflicted is theirs and the managing
    editor's (`policies.conflicts_scope`); anyone else reads only that they cannot approve."""
    if refusal is None or refusal.rule != "no_conflict_of_interest" or policies.conflicts_scope(reader) == "all":
        return refusal
    return rules.RuleResult("reviewer_eligible", False, f"{member.printed_name} cannot approve this article at present.")


def approval_progress(article: Article, *, reader: Any = None) -> ApprovalProgress:
    """The approvals checklist shown while an article is submitted or under review (to `reader`:
    a reviewer's declared interest is not told to the author, see `_as_read_by`)."""
    policy = governance_selectors.policy_for(article)
    checklist = rules.checklist(article, "approve")
    cycle = governance_selectors.open_cycle(article)
    approvals = (list(governance_selectors.approvals_in_cycle(cycle).order_by("signed_at"))
                 if cycle is not None and cycle.revision_id == article.current_revision_id else [])
    covered = {s.slug for review in approvals for s in review.reviewer.specialties.all()}
    missing_slugs = sorted(policy.required_specialties - covered)
    missing = [policy.required_specialty_names[s] for s in missing_slugs]
    authors = governance_selectors.author_ids(article)
    undecided = []
    for assignment in governance_selectors.open_assignments(article).order_by("due_at"):
        member = assignment.reviewer
        slugs = {s.slug: s.name for s in member.specialties.all()}
        undecided.append(UndecidedReviewer(
            assignment=assignment, specialties=sorted(slugs.values()),
            covers_missing=[slugs[s] for s in missing_slugs if s in slugs],
            refusal=_as_read_by(rules.reviewer_refusal(member, article, authors=authors), member, reader)))
    eligible = [u for u in undecided if u.refusal is None]
    hints = []
    still_needed = max(policy.approvals_required - len(approvals), 0)
    if still_needed:
        if len(eligible) < still_needed:
            short = still_needed - len(eligible)
            hints.append(f"Only {len(eligible)} eligible reviewer(s) still to decide for {still_needed} missing "
                         f"approval(s): assign {short} more board member(s).")
        elif article.state == ArticleState.SUBMITTED:
            hints.append(f"Start the review: the assigned reviewers then sign {still_needed} approval(s).")
        else:
            hints.append(f"Waiting for {still_needed} more signed approval(s) from the assigned reviewers.")
    for name in missing:
        if not any(name in u.covers_missing for u in eligible):
            hints.append(f"No reviewer still to decide specialises in {name}: assign one.")
    for u in undecided:
        if u.refusal is not None:
            hints.append(f"{u.refusal.message} Their decision will not count; cancel the assignment "
                         f"and assign someone else.")
        elif u.assignment.is_overdue:
            hints.append(f"{u.assignment.reviewer.printed_name}'s review was due "
                         f"{timezone.localtime(u.assignment.due_at):%d %b %Y}: send a reminder or reassign.")
    return ApprovalProgress(approvals=len(approvals), required=policy.approvals_required, checklist=checklist,
                            approved_by=approvals, missing_specialties=missing, undecided=undecided, hints=hints)


@dataclass
class ReviewerSuggestion:
    member: BoardMember
    open_load: int
    matching: list[str]
    refusal: rules.RuleResult | None
    assigned: bool


def reviewer_suggestions(article: Article) -> list[ReviewerSuggestion]:
    """Active board members for the assignment picker: eligible ones first, those covering the
    policy's required specialties before the others, then the least loaded; members who may not
    review this article (author, conflict of interest, expired licence) come last with the reason."""
    policy = governance_selectors.policy_for(article)
    authors = governance_selectors.author_ids(article)
    assigned = set(ReviewAssignment.objects.filter(article=article, status=ReviewAssignment.Status.OPEN)
                   .values_list("reviewer_id", flat=True))
    members = (BoardMember.objects.filter(is_active=True).select_related("user").prefetch_related("specialties")
               .annotate(open_load=Count("assignments", filter=Q(assignments__status=ReviewAssignment.Status.OPEN))))
    suggestions = []
    for member in members:
        slugs = {s.slug: s.name for s in member.specialties.all()}
        matching = [slugs[s] for s in sorted(policy.required_specialties) if s in slugs]
        suggestions.append(ReviewerSuggestion(
            member=member, open_load=member.open_load, matching=matching,
            refusal=rules.reviewer_refusal(member, article, authors=authors), assigned=member.pk in assigned,
        ))
    suggestions.sort(key=lambda s: (s.refusal is not None, s.assigned, -len(s.matching), s.open_load,
                                    s.member.printed_name))
    return suggestions


AUDIT_LABELS = {
    "article.create": "Article created",
    "revision.create": "New revision saved",
    "reference.create": "Reference added to the library",
    "reference.update": "Reference details updated",
    "reference.retraction_status": "Reference retraction status changed",
    "article.submit": "Submitted for review",
    "article.start_review": "Review started",
    "assignment.create": "Reviewer assigned",
    "assignment.cancel": "Reviewer assignment cancelled",
    "review.sign": "Review decision signed",
    "review.void": "Review decision voided",
    "article.request_changes": "Changes requested",
    "article.approve": "Approved by the board",
    "article.publish": "Published",
    "article.schedule": "Publication scheduled",
    "article.schedule_failed": "Scheduled publication failed",
    "article.revise": "Back to draft for revision",
    "article.void": "Approval voided for revision",
    "article.flag_review_due": "Flagged as due for re-review",
    "article.request_re_review": "Re-review requested by the managing editor",
    "article.review_date_spread": "Re-review date moved (load spreading)",
    "article.withdraw": "Withdrawn from publication",
    "article.archive": "Archived",
    "article.set_related": "Related articles changed",
}
TIMELINE_LIMIT = 50


def audit_label(action: str) -> str:
    """A readable label for an audit action code ("article.submit" → "Submitted for review")."""
    if action in AUDIT_LABELS:
        return AUDIT_LABELS[action]
    subject, _, verb = action.partition(".")
    return f"{subject.replace('_', ' ').capitalize()}: {verb.replace('_', ' ')}" if verb else action


@dataclass
class Timeline:
    events: list[AuditEvent]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.events)


def audit_timeline(article: Article, limit: int = TIMELINE_LIMIT) -> Timeline:
    """The article's latest `limit` audit events, newest first, each with a readable `label`, and
    how many there are in all (the full trail is in the audit dossier)."""
    qs = AuditEvent.objects.filter(article_id=article.pk)
    events = list(qs.order_by("-seq")[:limit + 1])
    total = len(events) if len(events) <= limit else qs.count()
    events = events[:limit]
    for event in events:
        event.label = audit_label(event.action)
    return Timeline(events=events, total=total)


def signed_reviews(article: Article) -> QuerySet[Review]:
    return (Review.objects.filter(article=article).select_related("revision", "reviewer")
            .order_by("-signed_at"))


def assignments_of(article: Article) -> QuerySet[ReviewAssignment]:
    return (ReviewAssignment.objects.filter(article=article).select_related("reviewer", "assigned_by")
            .order_by("status", "due_at"))
