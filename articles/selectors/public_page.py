"""What the article page shows of the review: its steps, the working revision's signatures and the working
preview document."""

from __future__ import annotations

from typing import Any

from django.utils.translation import pgettext_lazy

from articles.models import Article, ArticleState
from governance.workflow import selectors as governance_selectors
from reviewers.models import Review, ReviewCycle

# --- the public page -------------------------------------------------------------------------

STEPS = (("submitted", pgettext_lazy("review step", "Submitted")), ("in_review", pgettext_lazy("review step", "Under Review")),
         ("approved", pgettext_lazy("review step", "Approved")))
STEP_OF_STATE = {
    ArticleState.DRAFT: None,
    ArticleState.SUBMITTED: "submitted",
    ArticleState.IN_REVIEW: "in_review",
    ArticleState.APPROVED: "approved",
    ArticleState.SCHEDULED: "approved",
    ArticleState.PUBLISHED: "approved",
    ArticleState.REVIEW_DUE: "approved",
}


def review_steps(current: str | None) -> list[dict[str, Any]]:
    """The three public review steps, with which is done and which is current."""
    keys = [key for key, _ in STEPS]
    position = keys.index(current) if current in keys else -1
    return [{"key": key, "label": label, "done": i < position or (i == position and key == "approved"),
             "current": i == position} for i, (key, label) in enumerate(STEPS)]


APPROVED_TEXT_STATES = (ArticleState.APPROVED, ArticleState.SCHEDULED, ArticleState.PUBLISHED,
                        ArticleState.REVIEW_DUE)


def signatures_of_working_revision(article: Article) -> tuple[list[Review], ReviewCycle | None]:
    """The signed, unvoided approvals of the working revision, and the approved review cycle that
    holds them if the revision is the approved text. While the board is reviewing it, the approvals
    so far in the open cycle (and no approved cycle); the open cycle closes on approval, so an
    approved, scheduled, published or review-due text takes its signatures from its approved cycle."""
    cycle = governance_selectors.open_cycle(article)
    if cycle is not None and cycle.revision_id == article.current_revision_id:
        return list(governance_selectors.approvals_in_cycle(cycle).order_by("signed_at")), None
    if article.state not in APPROVED_TEXT_STATES:
        return [], None
    approved = (ReviewCycle.objects.filter(article=article, revision_id=article.current_revision_id,
                                           outcome=ReviewCycle.Outcome.APPROVED)
                .order_by("-closed_at", "-pk").first())
    if approved is None:
        return [], None
    return list(governance_selectors.approvals_in_cycle(approved).order_by("signed_at")), approved


def working_document(article: Article, audience: str = "general") -> dict[str, Any]:
    """The working revision rendered like a published document, for the editors' preview. It is
    built on the fly and never served publicly."""
    from governance.workflow import snapshots

    revision = article.current_revision
    variants = {v.audience: v for v in revision.variants.all()}
    variant = variants.get(audience)
    approvals, approved_cycle = signatures_of_working_revision(article)
    approved_text = approved_cycle is not None
    last_reviewed = (article.last_reviewed_at or approved_cycle.closed_at) if approved_text else None
    return {
        "slug": article.slug,
        "title": revision.title,
        "summary": (variant.summary if variant and variant.summary else revision.summary),
        "topic_name": article.topic.name,
        "audiences": sorted(variants),
        "audience": audience if variant else "general",
        "body_html": variant.body_html if variant else revision.body_html,
        "references": snapshots.reference_documents(revision),
        "reviewed_by": snapshots.reviewer_documents(approvals),
        "last_reviewed_at": last_reviewed.isoformat() if last_reviewed else None,
        "next_review_due": article.next_review_due.isoformat() if approved_text and article.next_review_due else None,
        "approved_text": approved_text,
        "published_at": None,
        "updated_at": revision.created_at.isoformat(),
        "origin": revision.origin,
        "related": snapshots.related_documents(article),
        "change_history": [],
        "disclaimer": snapshots.settings.IMPRIMATUR_DISCLAIMER,
        "editorial_policy_version": None,
    }
