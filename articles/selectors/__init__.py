"""Queries the editor UI and the public article page read. Nothing here writes.

In named parts: `listing` (the article list, the dashboard), `article` (one article: the
transitions the user may run, approval progress, reviewer suggestions, the timeline), `revisions`
(revision texts and diffs) and `public_page` (the review steps and the working preview).
"""

from articles.selectors.article import (
    approval_progress,
    assignments_of,
    audit_timeline,
    reviewer_suggestions,
    signed_reviews,
    transition_options,
)
from articles.selectors.listing import DUE_WINDOWS, IN_REVIEW_STATES, Chart, article_list, dashboard
from articles.selectors.public_page import STEP_OF_STATE, review_steps, signatures_of_working_revision, working_document
from articles.selectors.revisions import diff_sections, revision_text, revisions_of

__all__ = [
    "DUE_WINDOWS", "IN_REVIEW_STATES", "STEP_OF_STATE", "Chart", "approval_progress", "article_list", "assignments_of",
    "audit_timeline", "dashboard", "diff_sections", "review_steps", "reviewer_suggestions", "revision_text",
    "revisions_of", "signatures_of_working_revision", "signed_reviews", "transition_options", "working_document",
]
