"""The public article page (/articles/<slug>/): always the live snapshot, never the working revision."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext

from articles import public_article, public_views, selectors
from articles.models import (
    Article,
    Audience,
    Reference,
    ReviewStatus,
    review_status,
)
from governance.workflow import selectors as governance_selectors

# --- public pages ------------------------------------------------------------------------------

def page_context(document: dict[str, Any], *, article: Article, step: str | None, preview: bool, approved: bool,
                 overdue: bool, audience: str, policy: Any = ...) -> dict[str, Any]:
    def date(value: str | None) -> dt.date | None:
        return dt.datetime.fromisoformat(value).date() if value else None

    kind_labels = dict(Reference.Kind.choices)
    references = [dict(ref, kind_label=kind_labels.get(ref["kind"], ref["kind"])) for ref in document["references"]]
    return {
        "doc": document, "article": article, "preview": preview, "approved": approved, "overdue": overdue,
        "steps": selectors.review_steps(step), "references": references,
        "audience_choices": [(a, label) for a, label in Audience.choices if a in document.get("audiences", [])],
        "audience": document.get("audience", "general"), "requested_audience": audience,
        "updated": date(document.get("updated_at")), "last_reviewed": date(document.get("last_reviewed_at")),
        "next_review": date(document.get("next_review_due")),
        "history": [{"at": date(item.get("at")), "note": item.get("note", "")} for item in document.get("change_history", [])],
        # `...`: read it here (the previews); the public page's own query read it already.
        "policy": governance_selectors.current_editorial_policy() if policy is ... else policy,
    }


def article_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The published text: always the live snapshot, never the working revision. 404 if it was
    never published, 410 if it was withdrawn. One query (articles.public_article), 304 included."""
    article = public_article.page_article(slug)
    if article is None:
        raise Http404("No such article.")
    snapshot = article.live_snapshot
    site = public_article.site_of(article)
    if snapshot is None:
        if article.withdrawn_at is not None:
            context = public_views.site_context(request, title=gettext("Article withdrawn"), site=site)
            return render(request, "articles/public/gone.html", {**context, "article": article}, status=410)
        raise Http404("This article is not published.")
    audience = request.GET.get("audience", "general")
    document = snapshot.variant_documents.get(audience) or snapshot.document
    # The status the public API gives (from the same snapshot columns), so the page says the same.
    status = review_status(snapshot.next_review_due, snapshot.review_reason, timezone.localdate())
    policy_version = article.page_policy_version
    context = page_context(document, article=article, step="approved", preview=False, approved=True,
                            overdue=status == ReviewStatus.REVIEW_OVERDUE, audience=audience,
                            policy={"version": policy_version} if policy_version else None)
    context["review_reason"] = snapshot.review_reason
    # A retraction is a fact about the source, not part of the approved text: readers see it as
    # soon as it is known, while the article itself goes back for re-review.
    retracted_now = sorted(article.page_retracted or [])
    for ref in context["references"]:
        ref["retracted"] = ref.get("retracted") or ref["number"] in retracted_now
    context["rereview"] = status == ReviewStatus.UNDER_REVIEW
    context["jsonld"] = snapshot.jsonld.get(document.get("audience", "general")) or snapshot.jsonld.get("general")
    profiles = {row["name"]: row["slug"] for row in article.page_profiles or []}
    context["reviewers"] = [dict(r, profile=profiles.get(r["name"])) for r in document.get("reviewed_by", [])]
    context.update(public_views.site_context(request, title=document["title"], description=document.get("summary", ""),
                                             og_type="article", canonical_path=request.path, site=site))
    # Everything the page shows besides the stored document (whose hash is the snapshot's ETag).
    etag_source = [snapshot.etag, document.get("audience"), audience, status, snapshot.review_reason, retracted_now,
                   sorted(profiles.items()), policy_version, article.topic.slug, article.topic.name]
    return public_views.public_page(request, "articles/public/article.html", context, etag_source=etag_source)
