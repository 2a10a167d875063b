"""The audit dossier of one article: everything an inspector asks for, in one document.

`build(article)` assembles a plain dict with stable field names (the JSON served by the editorial
API and the context of the PDF template), from a fixed number of queries whatever the size of the
history. `render_pdf(dossier)` renders the same content with WeasyPrint.

Signature components are copied exactly as stored on each `Review` (21 CFR 11.50: printed name,
date and time, meaning), plus the hash of the revision signed and whether it still matches.

Retraction status "as it was at each approval" is derived from the audit trail: the
`reference.retraction_status` events the retraction import writes for every change. Where no such event exists the
status is given as the current one only when the reference's `retraction_updated_at` is empty or
earlier than the approval; otherwise it is reported as `unknown` (never guessed).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from articles import bibliography
from articles.figures.models import Figure
from articles.models import Article, AudienceVariant, Citation, PublishedSnapshot, Reference, Revision, iso
from governance.models import AuditEvent
from governance.workflow import audit, policies, services
from reviewers.models import ConflictOfInterest, CredentialChange, Review, ReviewAssignment, ReviewCycle

SCHEMA = "imprimatur.dossier/1"
RETRACTION_STATUSES = {choice.value for choice in Reference.RetractionStatus}


def _user(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"username": user.get_username(), "name": user.get_full_name() or user.get_username()}


STATUS_CHANGE = "reference.retraction_status"


@dataclass(frozen=True)
class StatusChange:
    at: dt.datetime
    old: str
    new: str


def _status_timeline(reference_ids: list[int]) -> dict[int, list[StatusChange]]:
    """Recorded changes of each reference's retraction status, oldest first (audit events
    `reference.retraction_status`, as the retraction import writes them: `data.from`/`data.to`,
    or `from_state`/`to_state`)."""
    events = AuditEvent.objects.filter(
        action=STATUS_CHANGE, object_type=Reference._meta.label_lower,
        object_id__in=[str(pk) for pk in reference_ids],
    ).order_by("seq").only("at", "object_id", "from_state", "to_state", "data")
    timeline: dict[int, list[StatusChange]] = defaultdict(list)
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        new = data.get("to") or event.to_state
        if new in RETRACTION_STATUSES:
            timeline[int(event.object_id)].append(StatusChange(event.at, data.get("from") or event.from_state, new))
    return timeline


def status_at(reference: Reference, changes: list[StatusChange], when: dt.datetime) -> tuple[str, str]:
    """(status, how it is known) of `reference` at `when`: `audit` (from a recorded change),
    `current` (no change recorded or stamped after `when`) or `unknown` (never guessed)."""
    before = [c for c in changes if c.at <= when]
    if before:
        return before[-1].new, "audit"
    after = [c for c in changes if c.at > when]
    if after:
        return (after[0].old, "audit") if after[0].old in RETRACTION_STATUSES else ("unknown", "unknown")
    if reference.retraction_updated_at is None or reference.retraction_updated_at <= when:
        return reference.retraction_status, "current"
    return "unknown", "unknown"


def _overlaps(starts_on: dt.date, ends_on: dt.date | None, begin: dt.date, end: dt.date) -> bool:
    return starts_on <= end and (ends_on is None or ends_on >= begin)


def _verifications(member_ids: set[int]) -> dict[int, list[tuple[dt.datetime, str]]]:
    """Each member's credential verifications (when, by whom), oldest first."""
    rows = (CredentialChange.objects.filter(member_id__in=member_ids, status=CredentialChange.Status.VERIFIED)
            .order_by("decided_at", "pk").values_list("member_id", "decided_at", "decided_by__username"))
    found: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for member_id, at, by in rows:
        found[member_id].append((at, by))
    return found


def _verified_before(verifications: list[tuple[dt.datetime, str]], when: dt.datetime) -> tuple[str | None, str | None]:
    """The verification in force at `when` (the latest before it): (at, by), or (None, None)."""
    before = [v for v in verifications if v[0] <= when]
    return (iso(before[-1][0]), before[-1][1]) if before else (None, None)


def _citation_docs(citations: list[Citation], approvals_by_revision: dict[int, list[ReviewCycle]],
                   timeline: dict[int, Any]) -> dict[int, list[dict[str, Any]]]:
    """Each revision's citations as cited, with the reference's status now and at each approval."""
    citations_by_revision: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for citation in citations:
        ref = citation.reference
        cited = citation.as_cited  # the details as this revision cited them (approved, signed)
        at_approvals = []
        for cycle in approvals_by_revision.get(citation.revision_id, []):
            status, derived = status_at(ref, timeline.get(ref.pk, []), cycle.closed_at)
            at_approvals.append({"review_cycle_id": cycle.pk, "approved_at": iso(cycle.closed_at),
                                 "status": status, "derived_from": derived})
        last_approval = max((c.closed_at for c in approvals_by_revision.get(citation.revision_id, [])), default=None)
        citations_by_revision[citation.revision_id].append({
            "number": citation.number,
            "key": citation.key,
            "reference": {
                "id": ref.pk, "kind": cited.kind, "title": cited.title, "authors": list(cited.authors or []),
                "container": cited.container, "year": cited.year, "doi": cited.doi, "pmid": cited.pmid,
                "pmcid": cited.pmcid or None, "url": cited.url or None, **bibliography.detail_document(cited),
            },
            "retraction_status": ref.retraction_status,
            "retraction_notice": ref.retraction_notice,
            "retraction_updated_at": iso(ref.retraction_updated_at),
            "status_changed_since_last_approval": bool(
                last_approval and ref.retraction_updated_at and ref.retraction_updated_at > last_approval),
            "status_at_approvals": at_approvals,
        })
    return citations_by_revision


def _revision_docs(article: Article, revisions: list[Revision], citations_of: dict[int, list[Citation]],
                   variants_by_revision: dict[int, list[AudienceVariant]],
                   approvals_by_revision: dict[int, list[ReviewCycle]],
                   citations_by_revision: dict[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [
        {
            "number": r.number,
            "content_hash": r.content_hash,
            # The stored text and citation copies re-hashed: the chain signature -> hash -> text.
            "content_hash_check": services.stored_content_check(r, citations_of.get(r.pk, []),
                                                               variants_by_revision.get(r.pk, [])),
            "title": r.title,
            "origin": r.origin,
            "change_note": r.change_note,
            "is_major_change": r.is_major_change,
            "created_by": _user(r.created_by),
            "created_at": iso(r.created_at),
            "is_current": r.pk == article.current_revision_id,
            "approved_at": [iso(c.closed_at) for c in approvals_by_revision.get(r.pk, [])],
            "citations": citations_by_revision.get(r.pk, []),
        }
        for r in revisions
    ]


def _signature_docs(reviews: list[Review], verifications: dict[int, list[tuple[dt.datetime, str]]],
                    number_of: dict[int, int], hash_of: dict[int, str]) -> list[dict[str, Any]]:
    """Each signed decision, with the credential verification in force when it was signed."""
    signature_docs = []
    for r in reviews:
        verified_at, verified_by = _verified_before(verifications.get(r.reviewer_id, []), r.signed_at)
        signature_docs.append(
            {"id": r.pk, "assignment_id": r.assignment_id, "review_cycle_id": r.cycle_id,
             "revision_number": number_of.get(r.revision_id), "decision": r.decision, "comments": r.comments,
             "signed_name": r.signed_name, "signed_credentials": r.signed_credentials,
             "signed_specialties": list(r.signed_specialties or []), "signed_username": r.signed_username,
             "signed_at": iso(r.signed_at), "meaning": r.meaning, "revision_hash": r.revision_hash,
             "revision_hash_matches": hash_of.get(r.revision_id) == r.revision_hash,
             "credentials_verified_at": verified_at, "credentials_verified_by": verified_by,
             "voided_at": iso(r.voided_at), "void_reason": r.void_reason})
    return signature_docs


def _conflict_docs(article: Article, assignments: list[ReviewAssignment], *, exported_by: Any, now: dt.datetime,
                   today: dt.date) -> tuple[str, list[dict[str, Any]]]:
    """(the reader's scope, the declarations they may see that overlap an assignment's period)."""
    # Declarations of its reviewers on its topic whose period overlaps an assignment's period
    # (assigned → completed, or → today while open; a cancelled one counts until its due date).
    periods: dict[int, list[tuple[int, dt.date, dt.date]]] = defaultdict(list)
    for a in assignments:
        end = a.completed_at or (now if a.status == ReviewAssignment.Status.OPEN else a.due_at)
        periods[a.reviewer_id].append((a.pk, timezone.localdate(a.assigned_at), min(timezone.localdate(end), today)))
    reader = exported_by if getattr(exported_by, "is_authenticated", False) else None
    conflicts_scope = policies.conflicts_scope(reader) if reader is not None else "all"
    readable = policies.visible_conflicts(reader) if reader is not None else ConflictOfInterest.objects.all()
    declarations = readable.filter(member_id__in=list(periods), topic_id=article.topic_id).select_related(
        "member__user", "topic", "ended_by").order_by("member__printed_name", "starts_on", "pk")
    coi_docs = []
    for d in declarations:
        overlapping = [pk for pk, begin, end in periods[d.member_id] if _overlaps(d.starts_on, d.ends_on, begin, end)]
        if overlapping:
            coi_docs.append({
                "id": d.pk, "member": {"member_id": d.member_id, "printed_name": d.member.printed_name,
                                       "credentials": d.member.credentials, "username": d.member.user.get_username()},
                "topic": d.topic.slug, "nature": d.nature, "nature_label": d.get_nature_display(),
                "blocks_assignment": d.blocks, "counterparty": d.counterparty, "description": d.description,
                "starts_on": iso(d.starts_on), "ends_on": iso(d.ends_on), "declared_at": iso(d.declared_at),
                "ended_at": iso(d.ended_at), "ended_by": d.ended_by.get_username() if d.ended_by else None,
                "end_reason": d.end_reason, "overlapping_assignment_ids": overlapping,
            })
    return conflicts_scope, coi_docs


def _event_docs(events: list[AuditEvent]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(every audit event of the article, its state transitions)."""
    event_docs = [
        {"seq": e.seq, "at": iso(e.at), "actor": e.actor_username, "action": e.action, "object_type": e.object_type,
         "object_id": e.object_id, "object_repr": e.object_repr, "from_state": e.from_state, "to_state": e.to_state,
         "reason": e.reason, "data": e.data, "hash": e.hash, "prev_hash": e.prev_hash}
        for e in events
    ]
    transition_docs = [
        {"seq": e.seq, "at": iso(e.at), "actor": e.actor_username, "action": e.action,
         "from_state": e.from_state, "to_state": e.to_state, "reason": e.reason}
        for e in events if e.to_state and e.object_type == Article._meta.label_lower
    ]
    return event_docs, transition_docs


def _article_doc(article: Article, number_of: dict[int, int]) -> dict[str, Any]:
    return {
        "id": article.pk, "slug": article.slug, "title": article.title,
        "topic": {"slug": article.topic.slug, "name": article.topic.name},
        "risk_tier": article.risk_tier, "origin": article.origin, "state": article.state,
        "created_by": _user(article.created_by), "created_at": iso(article.created_at),
        "current_revision_number": number_of.get(article.current_revision_id),
        "current_revision_hash": article.current_revision.content_hash if article.current_revision else None,
        "live_etag": article.live_snapshot.etag if article.live_snapshot else None,
        "first_published_at": iso(article.first_published_at),
        "last_reviewed_at": iso(article.last_reviewed_at), "next_review_due": iso(article.next_review_due),
        "withdrawn_at": iso(article.withdrawn_at), "withdrawn_reason": article.withdrawn_reason,
    }


def _revision_history(article: Article) -> tuple[list[Revision], list[ReviewCycle], list[dict[str, Any]]]:
    """(the revisions, the review cycles, each revision's document with its citations), in six queries."""
    revisions = list(Revision.objects.filter(article=article).select_related("created_by").order_by("number")
                     .prefetch_related(Prefetch("figures", queryset=Figure.objects.select_related("image"))))
    number_of = {r.pk: r.number for r in revisions}
    citations = list(
        Citation.objects.filter(revision_id__in=list(number_of)).select_related("reference")
        .order_by("revision_id", "number")
    )
    variants_by_revision: dict[int, list[AudienceVariant]] = defaultdict(list)
    for variant in AudienceVariant.objects.filter(revision_id__in=list(number_of)).order_by("audience"):
        variants_by_revision[variant.revision_id].append(variant)
    citations_of: dict[int, list[Citation]] = defaultdict(list)
    for citation in citations:
        citations_of[citation.revision_id].append(citation)
    cycles = list(ReviewCycle.objects.filter(article=article).order_by("opened_at", "pk"))
    approvals_by_revision: dict[int, list[ReviewCycle]] = defaultdict(list)
    for cycle in cycles:
        if cycle.outcome == ReviewCycle.Outcome.APPROVED and cycle.closed_at:
            approvals_by_revision[cycle.revision_id].append(cycle)
    timeline = _status_timeline(sorted({c.reference_id for c in citations}))
    citations_by_revision = _citation_docs(citations, approvals_by_revision, timeline)
    revision_docs = _revision_docs(article, revisions, citations_of, variants_by_revision, approvals_by_revision,
                                   citations_by_revision)
    return revisions, cycles, revision_docs


def _assignment_doc(a: ReviewAssignment) -> dict[str, Any]:
    return {"id": a.pk,
            "reviewer": {"member_id": a.reviewer_id, "printed_name": a.reviewer.printed_name,
                         "credentials": a.reviewer.credentials, "username": a.reviewer.user.get_username()},
            "assigned_by": _user(a.assigned_by), "assigned_at": iso(a.assigned_at), "due_at": iso(a.due_at),
            "status": a.status, "completed_at": iso(a.completed_at)}


def _snapshot_docs(article: Article, number_of: dict[int, int], hash_of: dict[int, str]) -> list[dict[str, Any]]:
    snapshots = list(PublishedSnapshot.objects.filter(article=article).select_related("published_by")
                     .order_by("published_at", "pk"))
    return [
        {"id": s.pk, "revision_number": number_of.get(s.revision_id), "revision_hash": hash_of.get(s.revision_id),
         "etag": s.etag, "published_at": iso(s.published_at), "published_by": _user(s.published_by),
         "last_reviewed_at": iso(s.last_reviewed_at), "next_review_due": iso(s.next_review_due),
         "is_live": s.pk == article.live_snapshot_id}
        for s in snapshots
    ]


def build(article: Article, *, exported_by: Any = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """The dossier of `article` as a JSON-ready dict (see `governance.api.dossier` for its schema).

    Built for its reader, `exported_by`: the reviewers' conflict-of-interest declarations are those
    `policies.visible_conflicts` lets them see (all for the managing editor, a reviewer their own,
    the author none); without a reader (the system) every declaration is included."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    article = Article.objects.select_related("topic", "created_by", "current_revision", "live_snapshot").get(
        pk=article.pk)

    revisions, cycles, revision_docs = _revision_history(article)
    number_of = {r.pk: r.number for r in revisions}

    cycle_docs = [
        {"id": c.pk, "revision_number": number_of.get(c.revision_id), "opened_at": iso(c.opened_at),
         "closed_at": iso(c.closed_at), "outcome": c.outcome or "open", "approvals_required": c.approvals_required}
        for c in cycles
    ]

    assignments = list(
        ReviewAssignment.objects.filter(article=article).select_related("reviewer__user", "assigned_by")
        .order_by("assigned_at", "pk")
    )
    assignment_docs = [_assignment_doc(a) for a in assignments]

    reviews = list(Review.objects.filter(article=article).order_by("signed_at", "pk"))
    hash_of = {r.pk: r.content_hash for r in revisions}
    verifications = _verifications({r.reviewer_id for r in reviews})
    signature_docs = _signature_docs(reviews, verifications, number_of, hash_of)

    conflicts_scope, coi_docs = _conflict_docs(article, assignments, exported_by=exported_by, now=now, today=today)

    events = list(AuditEvent.objects.filter(article_id=article.pk).order_by("seq"))
    event_docs, transition_docs = _event_docs(events)

    snapshot_docs = _snapshot_docs(article, number_of, hash_of)

    check = audit.verify_article(article.pk)
    return {
        "schema": SCHEMA,
        "exported_at": iso(now),
        "exported_by": _user(exported_by) if getattr(exported_by, "is_authenticated", False) else None,
        "article": _article_doc(article, number_of),
        "revisions": revision_docs,
        "review_cycles": cycle_docs,
        "assignments": assignment_docs,
        "signatures": signature_docs,
        "conflicts_of_interest_scope": conflicts_scope,
        "conflicts_of_interest": coi_docs,
        "transitions": transition_docs,
        "snapshots": snapshot_docs,
        "audit_events": event_docs,
        "audit_chain": {"ok": check.ok, "events_checked": check.count, "broken_seq": check.broken_seq,
                        "detail": str(check)},
    }


HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _printable(value: Any) -> Any:
    """SHA-256 digests in groups of eight: readable aloud, and they wrap in a table cell without
    `word-break: break-all`, which makes WeasyPrint's table layout several times slower."""
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    if isinstance(value, str) and HEX_DIGEST.match(value):
        return " ".join(value[i:i + 8] for i in range(0, 64, 8))
    return value


PANGO_MISSING = ("The PDF dossier cannot be rendered on this server: WeasyPrint needs the Pango system library, "
                 "which is not installed (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0, or "
                 "`make system-deps`). The JSON dossier is available.")


class PDFUnavailable(RuntimeError):
    """WeasyPrint cannot load (its system libraries are missing): the views answer 503."""


def render_pdf(dossier: dict[str, Any]) -> bytes:
    """The dossier as a paginated PDF (WeasyPrint), from `governance/dossier.html`. Raises
    `PDFUnavailable` when WeasyPrint cannot load Pango (an OSError from cffi at import)."""
    try:
        from weasyprint import HTML  # heavy import (Pango): only when a PDF is asked for
    except (OSError, ImportError) as exc:
        raise PDFUnavailable(f"{PANGO_MISSING} ({exc})") from exc

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # one INFO line per page otherwise
    html = render_to_string("governance/dossier.html", {"d": _printable(dossier)})
    return HTML(string=html).write_pdf()


def filename(dossier: dict[str, Any], extension: str) -> str:
    stamp = (dossier["exported_at"] or "")[:19].replace(":", "").replace("-", "")
    return f"dossier-{dossier['article']['slug']}-{stamp}.{extension}"
