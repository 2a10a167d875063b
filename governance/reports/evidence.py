"""Evidence: references cited by live text that are retracted, corrected or under an expression of
concern, and live articles whose every dated reference is older than the editorial policy allows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone

from articles.models import LIVE, Article, Citation, Reference
from governance.reports.charts import stacked_bar_chart
from governance.reports.exports import Table
from governance.reports.limits import ReportLimits, report_limits

FLAGGED_STATUSES = [
    Reference.RetractionStatus.RETRACTED,
    Reference.RetractionStatus.CORRECTED,
    Reference.RetractionStatus.EXPRESSION_OF_CONCERN,
]
STATUS_LABELS = dict(Reference.RetractionStatus.choices)


def evidence(*, today: dt.date | None = None, limits: ReportLimits | None = None) -> dict[str, Any]:
    """References cited by live text that are retracted, corrected or under an expression of
    concern; live articles whose every dated reference is older than the editorial policy's
    threshold (`limits`, else the current policy's)."""
    today = today or timezone.localdate()
    limits = limits or report_limits()
    # Flagged references are few: find them first (status index), then only their citations in
    # live text, so the planner never starts from the whole catalogue's citations.
    flagged_ids = list(Reference.objects.filter(retraction_status__in=FLAGGED_STATUSES).values_list("pk", flat=True))
    cited_live = Exists(Article.objects.filter(live_snapshot__revision_id=OuterRef("revision_id")))
    flagged_citations = Citation.objects.filter(cited_live, reference_id__in=flagged_ids)
    flagged = [] if not flagged_ids else list(
        flagged_citations
        .values("reference_id", "reference__title", "reference__doi", "reference__pmid", "reference__year",
                "reference__retraction_status", "reference__retraction_notice", "reference__retraction_updated_at",
                "revision__article__slug", "revision__article__title", "revision__article__state", "number")
        .order_by("reference__retraction_status", "reference__title", "revision__article__slug")
    )
    for row in flagged:
        row["status_label"] = STATUS_LABELS.get(row["reference__retraction_status"], row["reference__retraction_status"])
    by_status = {} if not flagged_ids else {
        r["reference__retraction_status"]: r for r in
        flagged_citations.values("reference__retraction_status")
        .annotate(references=Count("reference_id", distinct=True), articles=Count("revision_id", distinct=True))
        .order_by()
    }
    summary = [{"status": s.value, "label": s.label, "references": by_status.get(s.value, {}).get("references", 0),
                "articles": by_status.get(s.value, {}).get("articles", 0)} for s in
               (Reference.RetractionStatus.RETRACTED, Reference.RetractionStatus.EXPRESSION_OF_CONCERN,
                Reference.RetractionStatus.CORRECTED)]

    years = limits.evidence_max_age_years
    cutoff_year = today.year - years
    # "Every dated reference older than the cutoff" is "the newest dated reference before it": each
    # snapshot stores that year when it is written (PublishedSnapshot.newest_reference_year,
    # indexed), so only the few old candidates are read and only their citations counted.
    # (An anti-join of the live citations against the recent ones took 1.2-1.5 s at 100,000.)
    dated = list(
        Article.objects.filter(LIVE, live_snapshot__newest_reference_year__lt=cutoff_year)
        .annotate(newest_year=F("live_snapshot__newest_reference_year"),
                  references=Count("live_snapshot__revision__citations"))
        .values("pk", "slug", "title", "topic__name", "newest_year", "references", "next_review_due")
        .order_by("newest_year", "slug")
    )
    palette = {"retracted": "#b03a2e", "expression_of_concern": "#e67e22", "corrected": "#f1c40f"}
    chart = stacked_bar_chart(
        [s["label"] for s in summary],
        [("References", palette["retracted"], [s["references"] for s in summary])],
    ) if any(s["references"] for s in summary) else None
    if chart:
        for row, s in zip(chart["rows"], summary, strict=True):
            for segment in row["segments"]:
                segment["colour"] = palette[s["status"]]
    return {"flagged": flagged, "summary": summary, "old": dated, "years": years, "cutoff_year": cutoff_year,
            "chart": chart, "today": today, "limits": limits}


def evidence_tables(report: dict[str, Any]) -> list[Table]:
    flagged = Table("flagged", "Flagged references", [
        "Status", "Reference", "DOI", "PMID", "Year", "Notice", "Status updated", "Article", "Article title",
        "Article state", "Cited as"])
    for r in report["flagged"]:
        flagged.rows.append([r["status_label"], r["reference__title"], r["reference__doi"], r["reference__pmid"],
                             r["reference__year"], r["reference__retraction_notice"], r["reference__retraction_updated_at"],
                             r["revision__article__slug"], r["revision__article__title"], r["revision__article__state"],
                             r["number"]])
    old = Table("old", f"Evidence older than {report['years']} years", [
        "Article", "Title", "Topic", "Newest reference year", "References", "Next review due"])
    for r in report["old"]:
        old.rows.append([r["slug"], r["title"], r["topic__name"], r["newest_year"], r["references"],
                         r["next_review_due"]])
    return [flagged, old]
