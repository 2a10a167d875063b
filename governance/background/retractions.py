"""Retraction watch: apply the Retraction Watch database (Crossref's public CSV) to our references.

The CSV has one row per retraction notice; the columns we read are `Record ID`, `Title`,
`OriginalPaperDOI`, `OriginalPaperPubMedID`, `RetractionNature` (Retraction, Correction,
Expression of concern, Reinstatement), `RetractionDate`, `RetractionDOI` and `Reason`. A reference
matches a row by its DOI (normalized, case-insensitive) or its PMID. When several rows name one
paper, the latest notice wins (ties: the most serious).

Every newly retracted reference moves each published article whose live text cites it to
`review_due`, with a reason naming the reference, and asks its reviewers to re-review
(governance.background.staleness). Each status change is audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from articles.models import Article, Citation, Reference, normalize_doi
from governance.background import notifications
from governance.models import Notification, RetractionImport
from governance.workflow import audit, rows, snapshots
from governance.workflow.services import bulk as bulk_forms
from reviewers.models import ReviewAssignment

Status = Reference.RetractionStatus
NATURES = {
    "retraction": Status.RETRACTED,
    "correction": Status.CORRECTED,
    "expression of concern": Status.EXPRESSION_OF_CONCERN,
    "reinstatement": Status.NONE,
}
SEVERITY = {Status.NONE: 0, Status.CORRECTED: 1, Status.EXPRESSION_OF_CONCERN: 2, Status.RETRACTED: 3}
REQUIRED_COLUMNS = ("OriginalPaperDOI", "OriginalPaperPubMedID", "RetractionNature")
NO_VALUE = {"", "0", "unavailable", "na", "n/a", "none", "null"}


class RetractionFileInvalid(ValueError):
    """The file is not a Retraction Watch CSV (a required column is missing)."""


@dataclass(frozen=True)
class Notice:
    record_id: str
    doi: str
    pmid: str
    status: str
    nature: str
    date: dt.date | None
    reason: str
    notice_doi: str

    def describe(self) -> str:
        when = f" on {self.date:%Y-%m-%d}" if self.date else ""
        reason = f": {self.reason}" if self.reason else ""
        notice = f"; notice doi:{self.notice_doi}" if self.notice_doi else ""
        return f"{self.nature}{when}{reason} (Retraction Watch record {self.record_id}{notice})"[:500]

    def outranks(self, other: Notice) -> bool:
        mine, theirs = self.date or dt.date.min, other.date or dt.date.min
        return (mine, SEVERITY[self.status]) > (theirs, SEVERITY[other.status])


def _clean(value: str | None) -> str:
    value = (value or "").strip()
    return "" if value.lower() in NO_VALUE else value


def _date(value: str) -> dt.date | None:
    value = (value or "").strip().split(" ")[0]
    for fmt in ("%m/%d/%Y", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def read_notices(lines: Iterable[str]) -> Iterator[Notice]:
    """Parse Retraction Watch CSV lines into notices (rows with no DOI and no PMID, or an unknown
    nature, are skipped)."""
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RetractionFileInvalid(f"Not a Retraction Watch CSV: missing column(s) {', '.join(missing)}.")
    for row in reader:
        nature = (row.get("RetractionNature") or "").strip()
        status = NATURES.get(nature.lower())
        doi = normalize_doi(_clean(row.get("OriginalPaperDOI")))
        pmid = _clean(row.get("OriginalPaperPubMedID"))
        if status is None or not (doi or pmid):
            continue
        reason = "; ".join(r.strip().lstrip("+") for r in (row.get("Reason") or "").split(";") if r.strip())
        yield Notice(record_id=(row.get("Record ID") or "").strip(), doi=doi, pmid=pmid, status=status,
                     nature=nature, date=_date(row.get("RetractionDate") or ""), reason=reason,
                     notice_doi=normalize_doi(_clean(row.get("RetractionDOI"))))


@dataclass
class ImportResult:
    rows: int = 0
    matched: int = 0
    changed: list[tuple[Reference, str, str]] = field(default_factory=list)  # (reference, old, new)
    flagged: list[str] = field(default_factory=list)


def apply_notices(notices: Iterable[Notice]) -> ImportResult:
    """Match notices to our references and record every status change (audited); then flag the
    published articles citing a reference that is now retracted."""
    result = ImportResult()
    by_doi: dict[str, Notice] = {}
    by_pmid: dict[str, Notice] = {}
    for notice in notices:
        result.rows += 1
        for index, key in ((by_doi, notice.doi), (by_pmid, notice.pmid)):
            if key and (key not in index or notice.outranks(index[key])):
                index[key] = notice
    now = timezone.now()
    changed: list[Reference] = []
    for reference in Reference.objects.only("pk", "title", "year", "doi", "pmid", "retraction_status",
                                            "retraction_notice").iterator(chunk_size=2000):
        candidates = [n for n in (by_doi.get((reference.doi or "").lower()), by_pmid.get(reference.pmid or "")) if n]
        if not candidates:
            continue
        result.matched += 1
        notice = max(candidates, key=lambda n: (n.date or dt.date.min, SEVERITY[n.status]))
        if reference.retraction_status == notice.status and reference.retraction_notice == notice.describe():
            continue
        result.changed.append((reference, reference.retraction_status, notice.status))
        reference.retraction_status, reference.retraction_notice = notice.status, notice.describe()
        reference.retraction_updated_at = now
        changed.append(reference)
    with transaction.atomic():
        Reference.objects.bulk_update(changed, ["retraction_status", "retraction_notice", "retraction_updated_at"],
                                      batch_size=1000)
        audit.record_many([
            audit.PendingEvent(action="reference.retraction_status", object_type=Reference._meta.label_lower,
                               object_id=str(ref.pk), object_repr=str(ref), reason=ref.retraction_notice,
                               data={"from": old, "to": new, "doi": ref.doi or "", "pmid": ref.pmid or ""})
            for ref, old, new in result.changed
        ])
        # The live snapshots' stored documents say whether each cited source is retracted: kept current.
        snapshots.refresh_retractions([ref.pk for ref, old, new in result.changed if old != new])
    newly_retracted = [ref.pk for ref, old, new in result.changed if new == Status.RETRACTED and old != new]
    result.flagged = flag_articles_citing_retracted(newly_retracted=newly_retracted).flagged
    return result


def describe_reference(reference: Reference) -> str:
    ident = f"doi:{reference.doi}" if reference.doi else (f"PMID {reference.pmid}" if reference.pmid else "")
    return f"\"{reference.title}\"" + (f" ({ident})" if ident else "")


def flag_articles_citing_retracted(*, newly_retracted: Iterable[int] = ()) -> bulk_forms.FlagResult:
    """Move every published article whose live text cites a retracted reference to review_due,
    the reason naming the reference(s). Idempotent: flagged articles are no longer published.

    An article already in review_due whose live text cites one of `newly_retracted` (the
    references an import just marked retracted) is not moved again, but gets the same reason as
    an audit event (`article.reference_retracted`) and its reviewers (open assignments) a
    notification; once per retraction, as the import reports each change once."""
    citations = (Citation.objects.filter(reference__retraction_status=Status.RETRACTED,
                                         revision__snapshots__article__state="published")
                 .values_list("revision_id", "reference__title", "reference__doi", "reference__pmid").distinct())
    retracted_by_revision = _described_by_revision(citations)
    live_revision = {pk: rev for pk, rev in Article.objects.filter(
        state="published", live_snapshot__revision_id__in=list(retracted_by_revision)).values_list(
        "pk", "live_snapshot__revision_id")} if retracted_by_revision else {}
    result = bulk_forms.FlagResult()
    if live_revision:
        def reason_for(article: Article) -> str:
            return _reason(retracted_by_revision.get(live_revision.get(article.pk), []))

        pk = connection.ops.quote_name(Article._meta.pk.column)
        where, params = rows.any_of_sql(pk, live_revision)
        result = bulk_forms.flag_review_due(where, params, reason_for=reason_for)
    newly_retracted = list(newly_retracted)
    if newly_retracted:
        result.reviewers_told = _tell_review_due(newly_retracted, skip=set(live_revision))
    return result


def _described_by_revision(citations: Iterable[tuple[int, str, str | None, str | None]]) -> dict[int, list[str]]:
    by_revision: dict[int, list[str]] = {}
    for revision_id, title, doi, pmid in citations:
        by_revision.setdefault(revision_id, []).append(describe_reference(Reference(title=title, doi=doi, pmid=pmid)))
    return by_revision


def _reason(described: list[str]) -> str:
    return "cited reference retracted: " + "; ".join(sorted(set(described)))


def _tell_review_due(reference_ids: list[int], *, skip: set[int]) -> int:
    """The review_due articles (other than `skip`, flagged just now) whose live text cites one of
    `reference_ids`: an audit event with the reason, and a notification to each reviewer with an
    open assignment on it. A constant number of queries; returns the notifications written."""
    by_revision = _described_by_revision(
        Citation.objects.filter(rows.any_of("reference_id", reference_ids),
                                revision__snapshots__article__state="review_due")
        .values_list("revision_id", "reference__title", "reference__doi", "reference__pmid").distinct())
    if not by_revision:
        return 0
    articles = [(pk, slug, title, _reason(by_revision[revision_id])) for pk, slug, title, revision_id in
                Article.objects.filter(state="review_due", live_snapshot__revision_id__in=list(by_revision))
                .values_list("pk", "slug", "title", "live_snapshot__revision_id").order_by("pk") if pk not in skip]
    if not articles:
        return 0
    label = Article._meta.label_lower
    by_pk = {pk: (title, reason) for pk, _, title, reason in articles}
    with transaction.atomic():
        audit.record_many(audit.PendingEvent("article.reference_retracted", label, str(pk), title, pk, slug, "", "",
                                             reason) for pk, slug, title, reason in articles)
        # A list, not a lazy queryset: the rows are read before COPY starts (a query issued from
        # inside the COPY's row generator would wait on the same connection for ever).
        reviewers = list(ReviewAssignment.objects.filter(
            rows.any_of("article_id", by_pk), status=ReviewAssignment.Status.OPEN, reviewer__is_active=True,
            reviewer__user__is_active=True).values_list("article_id", "pk", "reviewer__user_id",
                                                        "reviewer__printed_name").order_by("pk"))
        return notifications.notify_rows(_retraction_notes(reviewers, by_pk))


def _retraction_notes(reviewers: Iterable[tuple[int, int, int, str]],
                      by_pk: dict[int, tuple[str, str]]) -> Iterator[tuple[Any, ...]]:
    """A notification (rows for notifications.notify_rows) to each reviewer of an open
    assignment, linking to their review of it."""
    for article_id, assignment_id, user_id, printed_name in reviewers:
        title, reason = by_pk[article_id]
        url = notifications.review_url(assignment_id)
        yield (user_id, Notification.Kind.REFERENCE_RETRACTED, f"Cited reference retracted: {title}",
               f"Dear {printed_name},\n\n\"{title}\", which you are reviewing, cites a reference that has since "
               f"been retracted ({reason}). Please take it into account in your review.\n\n{url}\n",
               url, article_id, assignment_id)


def import_file(path: str | Path, *, source: str = "", progress: Any = None) -> RetractionImport:
    """Import a Retraction Watch CSV file; `progress` wraps the line iterator (e.g. tqdm)."""
    record = RetractionImport.objects.create(source=source or str(path), started_at=timezone.now())
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            lines: Iterable[str] = progress(handle) if progress else handle
            result = apply_notices(read_notices(lines))
    except Exception as exc:
        RetractionImport.objects.filter(pk=record.pk).update(finished_at=timezone.now(), error=str(exc)[:2000])
        raise
    RetractionImport.objects.filter(pk=record.pk).update(
        finished_at=timezone.now(), rows=result.rows, matched=result.matched, changed=len(result.changed),
        articles_flagged=len(result.flagged))
    record.refresh_from_db()
    record.result = result
    return record


def check_reference_integrity(*, url: str | None = None) -> dict[str, Any]:
    """The daily job: download the CSV from IMPRIMATUR_RETRACTIONS_URL when one is configured
    (streamed to a temporary file; no transaction open meanwhile) and import it; in any case
    flag the published articles that cite a retracted reference."""
    url = settings.IMPRIMATUR_RETRACTIONS_URL if url is None else url
    summary: dict[str, Any] = {"downloaded": False}
    if url:
        with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
            with requests.get(url, stream=True, timeout=(10, 120)) as response:
                response.raise_for_status()
                for chunk in response.iter_content(chunk_size=1 << 16):
                    tmp.write(chunk)
            tmp.flush()
            record = import_file(tmp.name, source=url)
        summary.update(downloaded=True, rows=record.rows, changed=record.changed, flagged=record.articles_flagged)
    summary["flagged_now"] = flag_articles_citing_retracted().flagged
    return summary
