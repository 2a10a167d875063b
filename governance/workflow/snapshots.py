"""Freezing an approved revision into the document the public API serves.

Everything a reader sees is rendered once, at publication, and stored on the PublishedSnapshot:
the body HTML of each audience variant, the AMA-formatted references, the signed reviewers, the
change history and the JSON-LD, both as documents and as the very response texts the public API
sends (its list item too). Serving is then a lookup, and what is served is exactly what was
approved.

Three parts of a stored document are facts about other things than the approved text, and are
rewritten in place on the live snapshots when those facts change (`relink`, `refresh_retractions`,
`refresh_review_dates`, through `_rewrite`, which re-derives the JSON-LD, the response texts and
the ETag, so that caches revalidate): the `related` links (each related article's live, approved
title; gone when it is withdrawn; `refresh_related` when an editor changes the links themselves),
each reference's retraction status (and with it the snapshot's public `review_reason`), and the
next review date when the managing editor brings it forward (the reports' spread). None of these
rewrites adds a changes-feed event or a webhook: the approved text did not change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Q

from articles import bibliography, content, search
from articles.citations import format_ama
from articles.figures.processing import figure_documents
from articles.models import (
    Article,
    Citation,
    PublishedSnapshot,
    Reference,
    ReviewReason,
    Revision,
    iso,
    rendered_snapshot,
)
from reviewers.models import Review


def article_api_url(slug: str) -> str:
    return f"{settings.SITE_URL}/api/v1/articles/{slug}/"


def article_page_url(slug: str) -> str:
    return f"{settings.SITE_URL}/articles/{slug}/"


def reference_documents(revision: Revision) -> list[dict[str, Any]]:
    # The bibliographic details as the revision cited them (its approved text); the retraction
    # status is the reference's own, as it is now.
    citations = [(c, c.as_cited) for c in revision.citations.select_related("reference").order_by("number")]
    # Where each source is cited ([@key, p. 12]), across the main text and the audience versions.
    locators = content.cited_locators([revision.body_markdown, *(v.body_markdown for v in revision.variants.all())])
    refs = [
        {
            "number": c.number,
            "key": c.key,
            "kind": ref.kind,
            "title": ref.title,
            "authors": list(ref.authors or []),
            "container": ref.container,
            "year": ref.year,
            "doi": ref.doi or None,
            "pmid": ref.pmid or None,
            "pmcid": ref.pmcid or None,
            "url": ref.url or None,
            **bibliography.detail_document(ref),
            "locators": locators.get(c.key, []),
            "passages": list(c.passages or []),
            "retracted": ref.retracted,
            "retraction_status": ref.retraction_status,
        }
        for c, ref in citations
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
            "signed_at": iso(review.signed_at),
        }
        for review in approvals
    ]


def change_history(article: Article, revision: Revision, published_at: dt.datetime) -> list[dict[str, Any]]:
    """Every published revision whose change note is major, newest first (this one included), and
    the first published revision whatever its note: the article's publication."""
    first_published: dict[int, dt.datetime] = {}
    for revision_id, at in article.snapshots.order_by("published_at", "pk").values_list("revision_id", "published_at"):
        first_published.setdefault(revision_id, at)
    first_published.setdefault(revision.pk, published_at)
    first = min(first_published, key=first_published.__getitem__)
    revisions = Revision.objects.filter(Q(pk__in=first_published, is_major_change=True) | Q(pk=first))
    history = [{"at": iso(first_published[r.pk]), "note": r.change_note or "Published"} for r in revisions]
    return sorted(history, key=lambda item: item["at"], reverse=True)


def related_entry(slug: str, title: str) -> dict[str, Any]:
    return {"slug": slug, "title": title, "url": article_api_url(slug)}


def _by_title(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda entry: (entry["title"], entry["slug"]))


def related_documents(article: Article) -> list[dict[str, Any]]:
    """The related articles that are live, each with its live snapshot's title: the approved,
    published text, never a working revision's (which may be an unreviewed draft)."""
    rows = article.related.filter(live_snapshot__isnull=False).values_list("slug", "live_snapshot__revision__title")
    return _by_title([related_entry(slug, title) for slug, title in rows])


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
    from governance.workflow.selectors import current_editorial_policy
    from governance.workflow.site import site_settings

    policy = current_editorial_policy()
    variants = {v.audience: v for v in revision.variants.all()}
    base = {
        "slug": article.slug,
        "title": revision.title,
        "summary": revision.summary,
        "topic": article.topic.slug,
        "topic_name": article.topic.name,
        "audiences": sorted(variants),
        "last_reviewed_at": iso(article.last_reviewed_at),
        "next_review_due": iso(article.next_review_due),
        "published_at": iso(first_published_at),
        "updated_at": iso(published_at),
        "url": article_api_url(article.slug),
        "page_url": article_page_url(article.slug),
        "origin": revision.origin,
        "revision": revision.content_hash,
        "references": reference_documents(revision),
        "figures": figure_documents(revision),  # the approved images: served only while this text is live
        "reviewed_by": reviewer_documents(approvals),
        "disclaimer": site_settings().disclaimer,  # as the managing editor last set it
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
    years = [ref["year"] for ref in base["references"] if ref["year"]]
    return {
        "document": document,
        "variant_documents": variant_documents,
        "jsonld": jsonld,
        "etag": etag,
        "published_at": published_at,
        "last_reviewed_at": article.last_reviewed_at,
        "next_review_due": article.next_review_due,
        "newest_reference_year": max(years, default=None),
        "search_text": search.search_text_of(document, variant_documents),
        # The response texts themselves, rendered once here (see articles.models.rendered_snapshot).
        **rendered_snapshot(document, variant_documents, jsonld),
    }


def create(*, article: Article, revision: Revision, approvals: list[Review], published_at: dt.datetime,
           published_by: Any) -> PublishedSnapshot:
    fields = build(article=article, revision=revision, approvals=approvals, published_at=published_at,
                   first_published_at=article.first_published_at or published_at)
    snapshot = PublishedSnapshot.objects.create(article=article, revision=revision, published_by=published_by,
                                                **fields)
    search.index_snapshots([snapshot.pk])
    relink(article, snapshot)
    return snapshot


# --- rewriting the live snapshots' documents when a fact they show changes ------------------------

# With the documents, the columns served beside them: the review date and an open re-review's reason.
REWRITTEN_FIELDS = ["document", "variant_documents", "jsonld", "etag", "rendered_document", "rendered_variants",
                    "rendered_jsonld", "rendered_list_item", "next_review_due", "review_reason"]
BATCH = 500


def _rederive(snapshot: PublishedSnapshot) -> None:
    """The JSON-LD, response texts and ETag of a snapshot from its (edited) documents, as build() makes them."""
    topic_name = snapshot.document.get("topic_name", "")
    # A document stored before the JSON-LD's fields were keeps its JSON-LD as stored.
    with contextlib.suppress(KeyError):
        snapshot.jsonld = {"general": jsonld_document(snapshot.document, topic_name),
                           **{audience: jsonld_document(doc, topic_name)
                              for audience, doc in snapshot.variant_documents.items()}}
    snapshot.etag = etag_for([snapshot.document, snapshot.variant_documents])
    for name, value in rendered_snapshot(snapshot.document, snapshot.variant_documents, snapshot.jsonld).items():
        setattr(snapshot, name, value)


def _rewrite(snapshots: list[PublishedSnapshot], edit: Callable[[PublishedSnapshot, dict[str, Any]], bool]) -> int:
    """Apply `edit` (True if it changed the document) to every document of these snapshots and
    save those changed, re-derived, in one UPDATE. Returns how many changed."""
    changed = []
    for snapshot in snapshots:
        edits = [edit(snapshot, doc) for doc in (snapshot.document, *snapshot.variant_documents.values())]
        if any(edits):
            _rederive(snapshot)
            changed.append(snapshot)
    if changed:
        PublishedSnapshot.objects.bulk_update(changed, REWRITTEN_FIELDS, batch_size=BATCH)
    return len(changed)


def _locked(snapshot_ids: Any) -> list[PublishedSnapshot]:
    # Locked (in id order) so that two rewrites of the same snapshot do not lose each other's change.
    return list(PublishedSnapshot.objects.filter(pk__in=snapshot_ids).select_for_update().order_by("pk"))


def relink(article: Article, snapshot: PublishedSnapshot | None) -> int:
    """`article`'s entry in the `related` links of the live snapshots of the articles related to
    it, now that its live snapshot is `snapshot` (published or updated: its approved title) or
    none (withdrawn: the link is dropped). Two queries and one UPDATE; run in the transaction that
    changes the live snapshot."""
    entry = related_entry(article.slug, snapshot.document["title"]) if snapshot is not None else None
    live = (article.related.filter(live_snapshot__isnull=False).exclude(pk=article.pk)
            .values("live_snapshot_id"))

    def edit(_: PublishedSnapshot, doc: dict[str, Any]) -> bool:
        before = doc.get("related") or []
        after = _by_title([e for e in before if e.get("slug") != article.slug] + ([entry] if entry else []))
        if after == before:
            return False
        doc["related"] = after
        return True

    return _rewrite(_locked(live), edit)


def refresh_related(articles: list[Article]) -> int:
    """The `related` links of these articles' own live snapshots, recomputed from their related
    articles as they are now (`related_documents`: the live ones, by their approved titles), after
    the links themselves were changed. Each document and audience variant, the JSON-LD, the
    response texts and the ETag follow (`_rewrite`). Per article one query; then one lock query and
    one UPDATE. Run in the transaction that changes the links."""
    entries = {a.live_snapshot_id: related_documents(a) for a in articles if a.live_snapshot_id is not None}

    def edit(snapshot: PublishedSnapshot, doc: dict[str, Any]) -> bool:
        after = entries[snapshot.pk]
        if (doc.get("related") or []) == after:
            return False
        doc["related"] = [dict(entry) for entry in after]
        return True

    return _rewrite(_locked(sorted(entries)), edit)


def refresh_review_dates(dates: dict[int, dt.date]) -> int:
    """Serve new review dates at once: `dates` maps live snapshot ids to their article's new
    `next_review_due`, which becomes the snapshot's column (the served `review_status` reads it)
    and the `next_review_due` of each document and audience variant, with the response texts and
    the ETag (`_rewrite`). In the caller's transaction, set-based: one lock query and one UPDATE
    per BATCH snapshots, whatever their number. Returns how many changed."""

    def edit(snapshot: PublishedSnapshot, doc: dict[str, Any]) -> bool:
        due = dates[snapshot.pk]
        changed = snapshot.next_review_due != due
        snapshot.next_review_due = due
        if doc.get("next_review_due") != due.isoformat():
            doc["next_review_due"] = due.isoformat()
            changed = True
        return changed

    return _rewrite(_locked(sorted(dates)), edit)


def _set_retraction_statuses(statuses: dict[tuple[int, int], str], snapshot: PublishedSnapshot,
                             doc: dict[str, Any]) -> bool:
    changed = False
    for ref in doc.get("references") or []:
        status = statuses.get((snapshot.revision_id, ref.get("number")))
        retracted = status == Reference.RetractionStatus.RETRACTED
        if status is None or (ref.get("retraction_status"), ref.get("retracted")) == (status, retracted):
            continue
        ref["retraction_status"], ref["retracted"] = status, retracted
        if retracted and not snapshot.review_reason:
            # The text relies on a retracted source: publicly under re-review until a newly approved
            # text is published (the retraction watch flags the article for it in the same import).
            snapshot.review_reason = ReviewReason.REFERENCE_RETRACTED
        changed = True
    return changed


def refresh_retractions(reference_ids: list[int]) -> int:
    """The `retracted` / `retraction_status` of every reference in the live snapshots citing one of
    these references, from the references as they now are (e.g. after a retraction import), in
    the caller's transaction; a snapshot that now cites a retracted reference gets the public
    `review_reason` `reference_retracted` (kept until a new text is published, whatever the
    article's working state). Per batch of BATCH snapshots: two queries and one UPDATE."""
    if not reference_ids:
        return 0
    ids = sorted(set(reference_ids))
    snapshot_ids = sorted({pk for start in range(0, len(ids), BATCH) for pk in Article.objects.filter(
        live_snapshot__revision__citations__reference_id__in=ids[start:start + BATCH]).values_list(
        "live_snapshot_id", flat=True)})
    total = 0
    for start in range(0, len(snapshot_ids), BATCH):
        snapshots = _locked(snapshot_ids[start:start + BATCH])
        statuses = {(revision_id, number): status for revision_id, number, status in Citation.objects.filter(
            revision_id__in={snap.revision_id for snap in snapshots}).values_list(
            "revision_id", "number", "reference__retraction_status")}

        total += _rewrite(snapshots, functools.partial(_set_retraction_statuses, statuses))
    return total
