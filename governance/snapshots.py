"""Freezing an approved revision into the document the public API serves.

Everything a reader sees is rendered once, at publication, and stored on the PublishedSnapshot:
the body HTML of each audience variant, the AMA-formatted references, the signed reviewers, the
change history and the JSON-LD, both as documents and as the very response texts the public API
sends (its list item too). Serving is then a lookup, and what is served is exactly what was
approved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings

from articles.citations import format_ama
from articles.models import Article, PublishedSnapshot, Revision, rendered_snapshot
from reviewers.models import Review


def article_api_url(slug: str) -> str:
    return f"{settings.SITE_URL}/api/v1/articles/{slug}/"


def article_page_url(slug: str) -> str:
    return f"{settings.SITE_URL}/articles/{slug}/"


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def reference_documents(revision: Revision) -> list[dict[str, Any]]:
    citations = list(revision.citations.select_related("reference").order_by("number"))
    refs = [
        {
            "number": c.number,
            "key": c.key,
            "kind": c.reference.kind,
            "title": c.reference.title,
            "authors": list(c.reference.authors or []),
            "container": c.reference.container,
            "year": c.reference.year,
            "doi": c.reference.doi or None,
            "pmid": c.reference.pmid or None,
            "pmcid": c.reference.pmcid or None,
            "url": c.reference.url or None,
            "retracted": c.reference.retracted,
            "retraction_status": c.reference.retraction_status,
        }
        for c in citations
    ]
    for ref, formatted in zip(refs, format_ama(refs), strict=True):
        ref["formatted"] = formatted
    return refs


def reviewer_documents(approvals: list[Review]) -> list[dict[str, Any]]:
    return [
        {
            "name": review.signed_name,
            "credentials": review.signed_credentials,
            "specialties": list(review.signed_specialties),
            "decision": "approved",
            "signed_at": _iso(review.signed_at),
        }
        for review in approvals
    ]


def change_history(article: Article, revision: Revision, published_at: dt.datetime) -> list[dict[str, Any]]:
    """Every published revision whose change note is major, newest first (this one included)."""
    first_published: dict[int, dt.datetime] = {}
    for snap in article.snapshots.select_related("revision").order_by("published_at"):
        first_published.setdefault(snap.revision_id, snap.published_at)
    first_published.setdefault(revision.pk, published_at)
    revisions = Revision.objects.filter(pk__in=first_published, is_major_change=True)
    history = [{"at": _iso(first_published[r.pk]), "note": r.change_note or "Published"} for r in revisions]
    return sorted(history, key=lambda item: item["at"], reverse=True)


def related_documents(article: Article) -> list[dict[str, Any]]:
    return [
        {"slug": other.slug, "title": other.title, "url": article_api_url(other.slug)}
        for other in article.related.filter(live_snapshot__isnull=False).order_by("title")
    ]


def jsonld_document(doc: dict[str, Any], topic_name: str) -> dict[str, Any]:
    """schema.org MedicalWebPage."""
    audience_types = {"patient": "Patient", "caregiver": "Caregiver", "clinician": "Clinician"}
    citations = []
    for ref in doc["references"]:
        identifiers = []
        if ref["doi"]:
            identifiers.append({"@type": "PropertyValue", "propertyID": "DOI", "value": ref["doi"]})
        if ref["pmid"]:
            identifiers.append({"@type": "PropertyValue", "propertyID": "PMID", "value": ref["pmid"]})
        item: dict[str, Any] = {"@type": "ScholarlyArticle", "name": ref["title"]}
        if identifiers:
            item["identifier"] = identifiers
        if ref["authors"]:
            item["author"] = [{"@type": "Person", "name": a} for a in ref["authors"]]
        if ref["year"]:
            item["datePublished"] = str(ref["year"])
        if ref["url"] or ref["doi"]:
            item["url"] = ref["url"] or f"https://doi.org/{ref['doi']}"
        citations.append(item)
    audience = doc.get("audience", "general")
    return {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "@id": doc["page_url"],
        "url": doc["page_url"],
        "name": doc["title"],
        "headline": doc["title"],
        "description": doc["summary"],
        "lastReviewed": (doc["last_reviewed_at"] or "")[:10] or None,
        "reviewedBy": [
            {"@type": "Person", "name": r["name"], "honorificSuffix": r["credentials"]} for r in doc["reviewed_by"]
        ],
        "datePublished": doc["published_at"],
        "dateModified": doc["updated_at"],
        "audience": {"@type": "MedicalAudience",
                     "audienceType": audience_types.get(audience, "Patient" if audience == "general" else audience)},
        "citation": citations,
        "about": {"@type": "MedicalCondition" if topic_name else "Thing", "name": topic_name},
        "inLanguage": "en",
    }


def etag_for(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def build(
    *,
    article: Article,
    revision: Revision,
    approvals: list[Review],
    published_at: dt.datetime,
    first_published_at: dt.datetime,
) -> dict[str, Any]:
    """The fields of a new PublishedSnapshot for `revision` (not saved)."""
    from .selectors import current_editorial_policy

    policy = current_editorial_policy()
    variants = {v.audience: v for v in revision.variants.all()}
    base = {
        "slug": article.slug,
        "title": revision.title,
        "summary": revision.summary,
        "topic": article.topic.slug,
        "topic_name": article.topic.name,
        "audiences": sorted(variants),
        "last_reviewed_at": _iso(article.last_reviewed_at),
        "next_review_due": _iso(article.next_review_due),
        "published_at": _iso(first_published_at),
        "updated_at": _iso(published_at),
        "url": article_api_url(article.slug),
        "page_url": article_page_url(article.slug),
        "origin": revision.origin,
        "revision": revision.content_hash,
        "references": reference_documents(revision),
        "reviewed_by": reviewer_documents(approvals),
        "disclaimer": settings.IMPRIMATUR_DISCLAIMER,
        "editorial_policy_url": settings.SITE_URL + "/editorial-policy/",
        "editorial_policy_version": policy.version if policy else None,
        "related": related_documents(article),
        "change_history": change_history(article, revision, published_at),
    }
    document = {**base, "audience": "general", "body_html": revision.body_html}
    variant_documents = {
        audience: {**base, "audience": audience, "summary": variant.summary or revision.summary,
                   "body_html": variant.body_html}
        for audience, variant in variants.items()
    }
    jsonld = {"general": jsonld_document(document, article.topic.name)}
    for audience, doc in variant_documents.items():
        jsonld[audience] = jsonld_document(doc, article.topic.name)
    etag = etag_for([document, variant_documents])
    return {
        "document": document,
        "variant_documents": variant_documents,
        "jsonld": jsonld,
        "etag": etag,
        "published_at": published_at,
        "last_reviewed_at": article.last_reviewed_at,
        "next_review_due": article.next_review_due,
        # The response texts themselves, rendered once here (see articles.models.rendered_snapshot).
        **rendered_snapshot(document, variant_documents, jsonld),
    }


def create(*, article: Article, revision: Revision, approvals: list[Review], published_at: dt.datetime,
           published_by: Any) -> PublishedSnapshot:
    fields = build(article=article, revision=revision, approvals=approvals, published_at=published_at,
                   first_published_at=article.first_published_at or published_at)
    return PublishedSnapshot.objects.create(article=article, revision=revision, published_by=published_by, **fields)
