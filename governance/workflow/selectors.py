"""Queries that read governance state. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from articles.models import Article, Origin, RiskTier
from governance.models import EditorialPolicy, ReviewPolicy
from reviewers.models import BoardMember, ConflictOfInterest, Review, ReviewAssignment, ReviewCycle

AI_ORIGINS = {Origin.AI_ASSISTED, Origin.AI_GENERATED}


@dataclass(frozen=True)
class EffectivePolicy:
    """A ReviewPolicy resolved for one article, with the AI-origin extra approval applied."""

    policy: ReviewPolicy | None
    approvals_required: int
    required_specialties: frozenset[str]  # specialty slugs
    required_specialty_names: dict[str, str] = field(default_factory=dict)
    review_interval_days: int = 365
    assignment_due_days: int = 14
    remind_before_days: int = 7
    overdue_repeat_days: int = 3
    escalate_after_days: int = 7
    unpublish_grace_days: int | None = None


def policy_for(article: Article) -> EffectivePolicy:
    """The review policy of an article: its topic's policy for its risk tier, else the all-topics
    policy for the tier, else the built-in default (2 approvals; 365 days, 180 for high risk)."""
    policy = (
        ReviewPolicy.objects.filter(topic_id=article.topic_id, risk_tier=article.risk_tier).first()
        or ReviewPolicy.objects.filter(topic__isnull=True, risk_tier=article.risk_tier).first()
    )
    extra = 1 if article.origin in AI_ORIGINS else 0
    if policy is None:
        interval = 180 if article.risk_tier == RiskTier.HIGH else 365
        return EffectivePolicy(None, 2 + extra, frozenset(), {}, review_interval_days=interval)
    specialties = {s.slug: s.name for s in policy.required_specialties.all()}
    return EffectivePolicy(
        policy=policy,
        approvals_required=policy.approvals_required + extra,
        required_specialties=frozenset(specialties),
        required_specialty_names=specialties,
        review_interval_days=policy.review_interval_days,
        assignment_due_days=policy.assignment_due_days,
        remind_before_days=policy.remind_before_days,
        overdue_repeat_days=policy.overdue_repeat_days,
        escalate_after_days=policy.escalate_after_days,
        unpublish_grace_days=policy.unpublish_grace_days,
    )


def open_cycle(article: Article) -> ReviewCycle | None:
    return ReviewCycle.objects.filter(article=article, closed_at__isnull=True).first()


def open_assignments(article: Article) -> QuerySet[ReviewAssignment]:
    return (
        ReviewAssignment.objects.filter(article=article, status=ReviewAssignment.Status.OPEN)
        .select_related("reviewer__user")
        .prefetch_related("reviewer__specialties")
    )


def approvals_in_cycle(cycle: ReviewCycle) -> QuerySet[Review]:
    return (
        Review.objects.filter(cycle=cycle, decision=Review.Decision.APPROVED, voided_at__isnull=True,
                              revision_id=cycle.revision_id)
        .select_related("reviewer")
        .prefetch_related("reviewer__specialties")
    )


def author_ids(article: Article) -> set[int]:
    """Everyone who wrote any revision of the article, and its creator."""
    ids = set(article.revisions.values_list("created_by_id", flat=True))
    ids.add(article.created_by_id)
    return ids


def has_active_conflict(member: BoardMember, article: Article, on: dt.date | None = None) -> ConflictOfInterest | None:
    on = on or timezone.localdate()
    return (
        ConflictOfInterest.objects.filter(member=member, topic_id=article.topic_id)
        .filter(ConflictOfInterest.active_q(on))
        .first()
    )


def current_editorial_policy() -> EditorialPolicy | None:
    return EditorialPolicy.objects.filter(effective_at__lte=timezone.now()).order_by("-effective_at").first()


def editorial_policy_versions() -> list[EditorialPolicy]:
    """Every version of the editorial policy in effect so far, the current one first (one query)."""
    return list(EditorialPolicy.objects.filter(effective_at__lte=timezone.now()).order_by("-effective_at"))


def review_queue(member: BoardMember) -> QuerySet[ReviewAssignment]:
    """A board member's open assignments, overdue first, then by due date."""
    return (
        ReviewAssignment.objects.filter(reviewer=member, status=ReviewAssignment.Status.OPEN)
        .select_related("article", "article__topic", "article__current_revision")
        .order_by("due_at")
    )
