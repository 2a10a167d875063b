"""The managing editor's reports: content currency, board activity, evidence, the conflict-of-
interest register and the review-date load (with a proposal to spread it).

Every number comes from an aggregate query (GROUP BY with conditional counts), so the cost does
not grow with a Python loop over articles; Python only shapes the grouped rows for display. The
one exception is percentiles on SQLite, which has no `percentile_cont`: there the turnaround of
completed assignments is fetched as (member, seconds) pairs and summarised in Python.

Thresholds (the board's weekly review capacity, the spread window, the age after which evidence
is old) are fields of the current editorial policy version (`report_limits`), which the managing
editor publishes in the admin; defaults 10 a week, 28 days, 10 years.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Min,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone

from articles.models import LIVE, Article, Citation, Reference, RiskTier
from governance.reports.exports import Table
from reviewers.models import BoardMember, ConflictOfInterest, ReviewAssignment

FLAGGED_STATUSES = [
    Reference.RetractionStatus.RETRACTED,
    Reference.RetractionStatus.CORRECTED,
    Reference.RetractionStatus.EXPRESSION_OF_CONCERN,
]
STATUS_LABELS = dict(Reference.RetractionStatus.choices)
TIER_LABELS = dict(RiskTier.choices)
HORIZON_WEEKS = 26


@dataclass(frozen=True)
class ReportLimits:
    """The thresholds the reports measure against, from the current editorial policy version
    (`policy_version` None: no version published yet, the model's defaults apply)."""

    capacity: int
    window_days: int
    evidence_max_age_years: int
    policy_version: str | None = None
    policy_id: int | None = None

    @property
    def capacity_text(self) -> str:
        return f"capacity {self.capacity}/week"

    @property
    def spread_text(self) -> str:
        return f"capacity {self.capacity}/week and a window of {self.window_days} days"

    @property
    def age_text(self) -> str:
        return f"evidence older than {self.evidence_max_age_years} years"


def _field_default(name: str) -> int:
    from governance.models import EditorialPolicy

    return int(EditorialPolicy._meta.get_field(name).default)


def report_limits() -> ReportLimits:
    """One query: the current editorial policy's capacity, spread window and evidence age."""
    from governance.workflow.selectors import current_editorial_policy

    policy = current_editorial_policy()
    if policy is None:
        return ReportLimits(capacity=_field_default("weekly_review_capacity"),
                            window_days=_field_default("review_spread_window_days"),
                            evidence_max_age_years=_field_default("evidence_max_age_years"))
    return ReportLimits(capacity=policy.weekly_review_capacity, window_days=policy.review_spread_window_days,
                        evidence_max_age_years=policy.evidence_max_age_years, policy_version=policy.version,
                        policy_id=policy.pk)


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


# --- charts: geometry computed here, drawn by governance/reports/_chart.html -------------------

CHART_WIDTH = 760
LABEL_WIDTH = 240
BAR_HEIGHT = 18
BAR_GAP = 8


def stacked_bar_chart(labels: list[str], series: list[tuple[str, str, list[int]]]) -> dict[str, Any]:
    """Horizontal bars, one per label, each split into `series` (name, colour, values)."""
    totals = [sum(values[i] for _, _, values in series) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    plot = CHART_WIDTH - LABEL_WIDTH - 50
    rows = []
    for i, label in enumerate(labels):
        x = LABEL_WIDTH
        segments = []
        for name, colour, values in series:
            width = plot * values[i] / top
            if values[i]:
                segments.append({"x": round(x, 1), "width": round(max(width, 1), 1), "colour": colour,
                                 "title": f"{label}: {name} {values[i]}"})
            x += width
        y = 10 + i * (BAR_HEIGHT + BAR_GAP)
        rows.append({"label": label, "y": y, "text_y": y + BAR_HEIGHT - 5, "segments": segments,
                     "total": totals[i], "total_x": round(x + 6, 1)})
    legend_top = 10 + len(labels) * (BAR_HEIGHT + BAR_GAP) + 6
    legend = [{"name": name, "colour": colour, "x": 10 + 250 * (j % 3), "y": legend_top + 18 * (j // 3)}
              for j, (name, colour, _) in enumerate(series)] if len(series) > 1 else []
    height = legend_top + 18 * ((len(legend) + 2) // 3) + 8
    return {"kind": "hbar", "width": CHART_WIDTH, "height": height, "bar_height": BAR_HEIGHT, "rows": rows,
            "legend": legend, "label_x": LABEL_WIDTH - 8}


COLUMN_MAX_WIDTH = 56  # a lone bar stays a bar, not a block across the chart


def column_chart(labels: list[str], values: list[float | None], *, colour: str = "#2f6f9f",
                 limit: float | None = None, unit: str = "", over_colour: str = "#b03a2e",
                 missing: str = "no data") -> dict[str, Any]:
    """Vertical bars with an optional horizontal limit line (bars above it drawn in `over_colour`).
    A None value keeps its place on the axis with no bar (its tooltip says `missing`)."""
    height, base, left = 220, 190, 40
    top = max([*(v for v in values if v is not None), limit or 0], default=0) or 1
    step = (CHART_WIDTH - left - 10) / max(len(labels), 1)
    width = min(max(step - 2, 1), COLUMN_MAX_WIDTH)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        centre = left + i * step + step / 2
        h = (base - 20) * value / top if value is not None else 0
        bars.append({"x": round(centre - width / 2, 1), "width": round(width, 1),
                     "value": f"{value:g}" if value is not None else "", "value_y": round(base - h - 3, 1),
                     "y": round(base - h, 1), "height": round(h, 1) if value is not None else None,
                     "title": f"{label}: {value:g}{unit}" if value is not None else f"{label}: {missing}",
                     "colour": over_colour if limit is not None and value is not None and value > limit else colour,
                     "label": label if len(labels) <= 13 or i % 2 == 0 else "", "label_x": round(centre, 1)})
    line_y = round(base - (base - 20) * limit / top, 1) if limit is not None else None
    return {"kind": "columns", "width": CHART_WIDTH, "height": height, "base": base, "left": left, "bars": bars,
            "line_y": line_y, "limit": limit, "top_label": f"{top:g}{unit}", "unit": unit}


# --- content currency --------------------------------------------------------------------------

BUCKETS = {
    "overdue": "Overdue",
    "due_30": "Due in 30 days",
    "due_60": "Due in 31-60 days",
    "due_90": "Due in 61-90 days",
    "later": "Due in more than 90 days",
    "no_date": "No review date",
}


def bucket_q(bucket: str, today: dt.date) -> Q:
    """Exclusive buckets of the live catalogue by `next_review_due` (`within` = not overdue)."""
    d = dt.timedelta
    return {
        "overdue": Q(next_review_due__lt=today),
        "within": Q(next_review_due__gte=today),
        "due_30": Q(next_review_due__gte=today, next_review_due__lte=today + d(days=30)),
        "due_60": Q(next_review_due__gt=today + d(days=30), next_review_due__lte=today + d(days=60)),
        "due_90": Q(next_review_due__gt=today + d(days=60), next_review_due__lte=today + d(days=90)),
        "later": Q(next_review_due__gt=today + d(days=90)),
        "no_date": Q(next_review_due__isnull=True),
    }[bucket]


def content_currency(*, today: dt.date | None = None) -> dict[str, Any]:
    """Share of the live catalogue within its review interval, overdue, and due in 30/60/90 days,
    by topic and risk tier (one GROUP BY query)."""
    today = today or timezone.localdate()
    counts = {name: Count("pk", filter=bucket_q(name, today)) for name in ("within", *BUCKETS)}
    grouped = list(
        Article.objects.filter(LIVE).values("topic__slug", "topic__name", "risk_tier")
        .annotate(live=Count("pk"), **counts).order_by("topic__name", "risk_tier")
    )
    keys = ["live", "within", *BUCKETS]
    total = {key: sum(row[key] for row in grouped) for key in keys}
    rows = []
    for row in [*grouped, {**total, "topic__slug": "", "topic__name": "All topics", "risk_tier": ""}]:
        rows.append({
            **row,
            "tier_label": TIER_LABELS.get(row["risk_tier"], "All tiers"),
            "due_30_cum": row["due_30"], "due_60_cum": row["due_30"] + row["due_60"],
            "due_90_cum": row["due_30"] + row["due_60"] + row["due_90"],
            "within_pct": _pct(row["within"], row["live"]), "overdue_pct": _pct(row["overdue"], row["live"]),
            "due_30_pct": _pct(row["due_30"], row["live"]),
            "due_60_pct": _pct(row["due_30"] + row["due_60"], row["live"]),
            "due_90_pct": _pct(row["due_30"] + row["due_60"] + row["due_90"], row["live"]),
        })
    palette = {"overdue": "#b03a2e", "due_30": "#e67e22", "due_60": "#f1c40f", "due_90": "#9bc53d",
               "later": "#2e8b57", "no_date": "#999999"}
    chart = stacked_bar_chart(
        [f"{r['topic__name']} · {r['tier_label']}" for r in rows[:-1]],
        [(BUCKETS[name], palette[name], [r[name] for r in rows[:-1]]) for name in BUCKETS],
    ) if grouped else None
    return {"today": today, "rows": rows, "total": rows[-1], "chart": chart, "buckets": BUCKETS}


def currency_articles(*, bucket: str, today: dt.date | None = None, topic: str = "", tier: str = "",
                      limit: int | None = 1000) -> list[dict[str, Any]]:
    """The list behind one number of the currency report (the first `limit`; None: all)."""
    today = today or timezone.localdate()
    qs = Article.objects.filter(LIVE).filter(bucket_q(bucket, today))
    if topic:
        qs = qs.filter(topic__slug=topic)
    if tier:
        qs = qs.filter(risk_tier=tier)
    rows = qs.order_by("next_review_due", "slug").values(
        "pk", "slug", "title", "state", "topic__name", "risk_tier", "last_reviewed_at", "next_review_due")
    return list(rows if limit is None else rows[:limit])


def currency_tables(report: dict[str, Any], articles: list[dict[str, Any]] | None = None) -> list[Table]:
    summary = Table("summary", "Currency by topic and tier", [
        "Topic", "Risk tier", "Live", "Within interval", "Within %", "Overdue", "Overdue %", "Due ≤30 days",
        "Due ≤60 days", "Due ≤90 days", "No review date"])
    for r in report["rows"]:
        summary.rows.append([r["topic__name"], r["tier_label"], r["live"], r["within"], r["within_pct"], r["overdue"],
                             r["overdue_pct"], r["due_30_cum"], r["due_60_cum"], r["due_90_cum"], r["no_date"]])
    tables = [summary]
    if articles is not None:
        listing = Table("articles", "Articles", ["Slug", "Title", "Topic", "Risk tier", "State", "Last reviewed",
                                                 "Next review due"])
        for a in articles:
            listing.rows.append([a["slug"], a["title"], a["topic__name"], a["risk_tier"], a["state"],
                                 a["last_reviewed_at"], a["next_review_due"]])
        tables.append(listing)
    return tables


# --- board activity ----------------------------------------------------------------------------

class Percentiles(Aggregate):
    """PostgreSQL's ordered-set aggregate percentile_cont over the seconds of an interval, several
    fractions at once (one sort): returns a list of floats."""

    function = "percentile_cont"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"

    def __init__(self, expression: Any, fractions: list[float], **extra: Any) -> None:
        from django.contrib.postgres.fields import ArrayField

        super().__init__(expression, fractions=", ".join(f"{float(f)}::float8" for f in fractions),
                         output_field=ArrayField(FloatField()), **extra)


def _turnaround(prefix: str = "") -> ExpressionWrapper:
    return ExpressionWrapper(F(f"{prefix}completed_at") - F(f"{prefix}assigned_at"), output_field=DurationField())


def _turnaround_samples(group: str, queryset: Any) -> dict[Any, list[float]]:
    """SQLite has no percentile aggregate: (group, days) pairs of completed assignments, grouped here."""
    samples: dict[Any, list[float]] = defaultdict(list)
    for key, assigned, done in queryset.values_list(group, "assigned_at", "completed_at").iterator():
        samples[key].append((done - assigned).total_seconds() / 86400)
    return samples


def _quantile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks, as percentile_cont does."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def reminder_counts() -> tuple[dict[int, tuple[int, int]], bool]:
    """({member id: (reminders, escalations)}, whether reminders are recorded at all)."""
    from governance import models as governance_models

    reminder = getattr(governance_models, "ReviewReminder", None)  # the background work records these
    if reminder is None:
        return {}, False
    names = {f.name for f in reminder._meta.get_fields()}
    if "assignment" not in names or "kind" not in names:
        return {}, False
    sent = reminder.objects.filter(sent_at__isnull=False) if "sent_at" in names else reminder.objects.all()
    rows = (sent.values("assignment__reviewer_id")
            .annotate(reminders=Count("pk", filter=~Q(kind__icontains="escalat")),
                      escalations=Count("pk", filter=Q(kind__icontains="escalat"))).order_by())
    return {r["assignment__reviewer_id"]: (r["reminders"], r["escalations"]) for r in rows}, True


def _assignment_counts(now: dt.datetime) -> dict[str, Any]:
    """A member's assignments received, completed, open, overdue now and cancelled: conditional
    COUNTs over the member's assignments (joined as `assignments`). They count the assignment's
    status, never null, rather than its id, which keeps the scan within the covering index
    `assignment_board_activity` (an index-only scan per member once the table is vacuumed)."""
    status = ReviewAssignment.Status
    count = "assignments__status"
    return {
        "received": Count(count),
        "completed": Count(count, filter=Q(assignments__status=status.COMPLETED, assignments__completed_at__isnull=False)),
        "open": Count(count, filter=Q(assignments__status=status.OPEN)),
        "overdue_now": Count(count, filter=Q(assignments__status=status.OPEN, assignments__due_at__lt=now)),
        "cancelled": Count(count, filter=Q(assignments__status=status.CANCELLED)),
    }


def _month_starts(since: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """The first instant of each month (in the current time zone, as TruncMonth reckons months)
    from the month holding `since` to the month after the one holding `until`."""
    tz = timezone.get_current_timezone()
    local = since.astimezone(tz)
    year, month = local.year, local.month
    last = until.astimezone(tz)
    starts = []
    while (year, month) <= (last.year, last.month):
        starts.append(dt.datetime(year, month, 1, tzinfo=tz))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    starts.append(dt.datetime(year, month, 1, tzinfo=tz))
    return starts


def monthly_turnaround(completed_rows: Any, *, since: dt.datetime, now: dt.datetime) -> dict[dt.date, float]:
    """Mean turnaround (days) of the assignments completed each month since `since`.

    One pass with an AVG per month (FILTER on the month's bounds): grouping by the truncated
    month made PostgreSQL estimate one group per row and sort every completed assignment. The
    months run up to the current one; completions dated later (a clock set ahead) are counted,
    and if there are any they are grouped by month in a second query, so nothing is dropped.
    """
    starts = _month_starts(since, now)
    rows = completed_rows.filter(completed_at__gte=since)
    means = rows.aggregate(
        later=Count("pk", filter=Q(completed_at__gte=starts[-1])),
        **{f"m{i}": Avg(_turnaround(), filter=Q(completed_at__gte=start, completed_at__lt=starts[i + 1]))
           for i, start in enumerate(starts[:-1])},
    )
    found = [(start.date(), means[f"m{i}"]) for i, start in enumerate(starts[:-1]) if means[f"m{i}"] is not None]
    if means["later"]:
        for row in (rows.filter(completed_at__gte=starts[-1])
                    .annotate(month=TruncMonth("completed_at", output_field=DateField())).values("month")
                    .annotate(mean=Avg(_turnaround())).order_by("month")):
            found.append((row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"], row["mean"]))
    return {month: mean.total_seconds() / 86400 if isinstance(mean, dt.timedelta) else mean for month, mean in found}


def board_activity(*, now: dt.datetime | None = None, months: int = 12) -> dict[str, Any]:
    """Per member: assignments received and completed, median and p90 turnaround (days), open and
    overdue now, reminders and escalations sent; mean turnaround per month.

    One pass over the assignments, member by member (in the members' order, so no sort precedes
    the aggregate), gives the counts and, on PostgreSQL, both percentiles; SQLite has no
    percentile aggregate, so there the completed assignments' turnarounds are summarised here.
    """
    now = now or timezone.now()
    postgres = connection.vendor == "postgresql"
    completed = Q(assignments__status=ReviewAssignment.Status.COMPLETED, assignments__completed_at__isnull=False)
    counts = _assignment_counts(now)
    if postgres:  # the percentiles in the same pass over the assignments
        counts["turnaround"] = Percentiles(_turnaround("assignments__"), [0.5, 0.9], filter=completed)
    members = list(BoardMember.objects.values("pk", "printed_name", "credentials", "is_active")
                   .annotate(**counts).order_by("printed_name"))
    completed_rows = ReviewAssignment.objects.filter(status=ReviewAssignment.Status.COMPLETED, completed_at__isnull=False)
    if postgres:
        percentiles = {m["pk"]: (m["turnaround"][0] / 86400, m["turnaround"][1] / 86400)
                       for m in members if m["turnaround"] and m["turnaround"][0] is not None}
    else:
        percentiles = {key: (_quantile(days, 0.5), _quantile(days, 0.9))
                       for key, days in _turnaround_samples("reviewer_id", completed_rows).items()}
    reminders, reminders_tracked = reminder_counts()
    for m in members:
        m.pop("turnaround", None)
        median, p90 = percentiles.get(m["pk"], (None, None))
        m["median_days"] = round(median, 1) if median is not None else None
        m["p90_days"] = round(p90, 1) if p90 is not None else None
        m["reminders"], m["escalations"] = reminders.get(m["pk"], (0, 0))

    # The chart shows the mean per month (an AVG per month in one pass); the per-member median
    # and p90 above are the exact figures.
    # The current month and the `months - 1` before it, months as TruncMonth reckons them.
    local = now.astimezone(timezone.get_current_timezone())
    back = local.year * 12 + local.month - 1 - (months - 1)
    since = dt.datetime(back // 12, back % 12 + 1, 1, tzinfo=local.tzinfo)
    monthly = monthly_turnaround(completed_rows, since=since, now=now)
    months_sorted = sorted(monthly)
    # Every month of the window on the axis, those with no completion as gaps: turnaround over time.
    axis = sorted({*(start.date() for start in _month_starts(since, now)[:-1]), *monthly})
    chart = column_chart([m.strftime("%b %Y") for m in axis],
                         [round(monthly[m], 1) if m in monthly else None for m in axis],
                         unit=" d", missing="no review completed") if months_sorted else None
    return {"members": members, "reminders_tracked": reminders_tracked, "chart": chart, "now": now,
            "monthly": [{"month": m, "mean_days": round(monthly[m], 1)} for m in months_sorted]}


def board_tables(report: dict[str, Any]) -> list[Table]:
    table = Table("members", "Board activity", [
        "Member", "Credentials", "Active", "Received", "Completed", "Open", "Overdue now", "Cancelled",
        "Median turnaround (days)", "P90 turnaround (days)", "Reminders sent", "Escalations sent"])
    for m in report["members"]:
        table.rows.append([m["printed_name"], m["credentials"], m["is_active"], m["received"], m["completed"], m["open"],
                           m["overdue_now"], m["cancelled"], m["median_days"], m["p90_days"], m["reminders"],
                           m["escalations"]])
    monthly = Table("monthly", "Turnaround by month", ["Month", "Mean turnaround (days)"])
    monthly.rows = [[r["month"], r["mean_days"]] for r in report["monthly"]]
    return [table, monthly]


# --- evidence ----------------------------------------------------------------------------------

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


# --- conflict-of-interest register -------------------------------------------------------------

def coi_overlapping() -> dict[int, int]:
    """{declaration id: how many of the member's assignments on an article of the declaration's
    topic overlap its period} (declarations with none are absent).

    One hash join from the assignments to the declarations on (member, topic), grouped by
    declaration: the cost is one pass over the assignments, whatever the number of declarations
    (a correlated COUNT per declaration scanned a topic's articles once per declaration).
    """
    status = ReviewAssignment.Status
    starts_on = F("reviewer__conflicts__starts_on")
    rows = (
        ReviewAssignment.objects.filter(  # one filter() call: every condition on the same join to the declarations
            Q(reviewer__conflicts__topic_id=F("article__topic_id")),
            Q(assigned_at__date__lte=Coalesce(F("reviewer__conflicts__ends_on"), Value(dt.date(9999, 12, 31)),
                                              output_field=DateField())),
            Q(status=status.OPEN) | Q(completed_at__date__gte=starts_on)
            | Q(completed_at__isnull=True, due_at__date__gte=starts_on),
        )
        .order_by().values("reviewer__conflicts").annotate(n=Count("pk"))
    )
    return {row["reviewer__conflicts"]: row["n"] for row in rows}


def coi_register() -> dict[str, Any]:
    """Every declaration, with how many of the member's assignments on an article of the same
    topic overlap its period (`coi_overlapping`); the chart counts declarations by nature."""
    declarations = list(
        ConflictOfInterest.objects
        .values("pk", "member__printed_name", "member__credentials", "topic__name", "nature", "counterparty",
                "description", "starts_on", "ends_on", "declared_at")
        .order_by("member__printed_name", "-starts_on", "pk")
    )
    overlapping = coi_overlapping() if declarations else {}
    natures = dict(ConflictOfInterest.Nature.choices)
    today = timezone.localdate()
    for d in declarations:
        d["overlapping"] = overlapping.get(d["pk"], 0)
        d["nature_label"] = natures.get(d["nature"], d["nature"])
        d["blocks"] = d["nature"] != ConflictOfInterest.Nature.NONE
        d["active"] = d["blocks"] and d["starts_on"] <= today and (d["ends_on"] is None or d["ends_on"] >= today)
    # Declarations per nature, most first (the register above holds every declaration).
    by_nature = sorted(Counter(d["nature"] for d in declarations).items(), key=lambda item: (-item[1], item[0]))
    chart = stacked_bar_chart([natures.get(nature, nature)[:34] for nature, _ in by_nature],
                              [("Declarations", "#2f6f9f", [n for _, n in by_nature])]) if by_nature else None
    return {"declarations": declarations, "chart": chart}


def coi_tables(report: dict[str, Any]) -> list[Table]:
    table = Table("declarations", "COI register", [
        "Member", "Credentials", "Topic", "Nature", "Counterparty", "Description", "Starts", "Ends", "Declared",
        "Blocks assignment while active", "Active today", "Overlapping assignments on this topic"])
    for d in report["declarations"]:
        table.rows.append([d["member__printed_name"], d["member__credentials"], d["topic__name"], d["nature_label"],
                           d["counterparty"], d["description"], d["starts_on"], d["ends_on"], d["declared_at"],
                           d["blocks"], d["active"], d["overlapping"]])
    return [table]


# --- review-date load and the spread proposal --------------------------------------------------

def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass
class SpreadMove:
    article_id: int
    slug: str
    title: str
    from_date: dt.date
    to_date: dt.date


@dataclass
class SpreadPlan:
    capacity: int
    window_days: int
    moves: list[SpreadMove] = field(default_factory=list)
    unresolved: list[dict[str, Any]] = field(default_factory=list)
    before: dict[dt.date, int] = field(default_factory=dict)
    after: dict[dt.date, int] = field(default_factory=dict)
    limits: ReportLimits | None = None  # where capacity and window came from (None: passed in)

    @property
    def digest(self) -> str:
        """Fingerprint of the proposal: applying checks that it is still the one previewed."""
        payload = [self.capacity, self.window_days,
                   [[m.article_id, m.from_date.isoformat(), m.to_date.isoformat()] for m in self.moves]]
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def _load_queryset(today: dt.date):
    """Live articles due from today to the end of the 26th week. Week 0 starts on Monday but
    holds only the reviews due from today on: those due earlier this week are overdue, counted
    once, in `overdue`."""
    first = week_start(today)
    return Article.objects.filter(LIVE, next_review_due__gte=today,
                                  next_review_due__lt=first + dt.timedelta(weeks=HORIZON_WEEKS))


def weekly_load(*, today: dt.date | None = None) -> dict[dt.date, int]:
    """Reviews of live articles falling due per week (Monday) over the next 26 weeks."""
    today = today or timezone.localdate()
    first = week_start(today)
    counts = {first + dt.timedelta(weeks=i): 0 for i in range(HORIZON_WEEKS)}
    for row in (_load_queryset(today).annotate(week=TruncWeek("next_review_due", output_field=DateField()))
                .values("week").annotate(n=Count("pk")).order_by()):
        week = row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]
        counts[week] = row["n"]
    return counts


def spread_plan(*, today: dt.date | None = None, capacity: int | None = None, window_days: int | None = None,
                limits: ReportLimits | None = None) -> SpreadPlan:
    """Propose earlier review dates so that no week of the next 26 exceeds the capacity.

    A review is only ever brought forward, by whole weeks (it keeps its weekday), never by more
    than the window, never into the past, and never past its due date. In each overloaded week
    the reviews due latest are moved, each to the nearest earlier week with room. Reviews that
    cannot be placed are listed as unresolved, unchanged. Nothing is written here.
    """
    today = today or timezone.localdate()
    if capacity is None or window_days is None:
        limits = limits or report_limits()
        capacity = limits.capacity if capacity is None else capacity
        window_days = limits.window_days if window_days is None else window_days
    before = weekly_load(today=today)
    after = dict(before)
    plan = SpreadPlan(capacity=capacity, window_days=window_days, before=before, after=after, limits=limits)
    overloaded = [week for week, n in before.items() if n > capacity]
    if not overloaded:
        return plan
    weeks_q = Q()
    for week in overloaded:
        weeks_q |= Q(next_review_due__gte=week, next_review_due__lt=week + dt.timedelta(weeks=1))
    candidates: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for row in (_load_queryset(today).filter(weeks_q).order_by("next_review_due", "pk")
                .values("pk", "slug", "title", "next_review_due")):
        candidates[week_start(row["next_review_due"])].append(row)
    max_shift = window_days // 7

    def earlier_slot(due: dt.date) -> dt.date | None:
        for shift in range(1, max_shift + 1):
            target = due - dt.timedelta(weeks=shift)
            if target < today:
                return None
            if after.get(week_start(target), 0) < capacity:
                return target
        return None

    for week in sorted(overloaded):
        stuck = []
        for row in reversed(candidates[week]):  # the latest due have the most room to move
            if after[week] <= capacity:
                break
            target = earlier_slot(row["next_review_due"])
            if target is None:
                stuck.append(row)
                continue
            after[week_start(target)] = after.get(week_start(target), 0) + 1
            after[week] -= 1
            plan.moves.append(SpreadMove(row["pk"], row["slug"], row["title"], row["next_review_due"], target))
        if after[week] > capacity:  # the week stays over by this many: name that many reviews
            plan.unresolved.extend(stuck[: after[week] - capacity])
    plan.moves.sort(key=lambda m: (m.from_date, m.article_id))
    return plan


def review_load(*, today: dt.date | None = None, limits: ReportLimits | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    limits = limits or report_limits()
    capacity = limits.capacity
    load = weekly_load(today=today)
    upcoming = Article.objects.filter(LIVE).aggregate(
        overdue=Count("pk", filter=Q(next_review_due__lt=today)), next_due=Min("next_review_due", filter=Q(
            next_review_due__gte=today)))
    overdue = upcoming["overdue"]
    weeks = [{"week": week, "n": n, "over": n > capacity} for week, n in load.items()]
    chart = column_chart([w.strftime("%d %b") for w in load], list(load.values()), limit=capacity)
    return {"weeks": weeks, "capacity": capacity, "window_days": limits.window_days, "limits": limits,
            "overdue": overdue,
            "chart": chart, "total": sum(load.values()), "overloaded": sum(1 for w in weeks if w["over"]),
            "next_due": upcoming["next_due"],
            "today": today}


def load_tables(report: dict[str, Any]) -> list[Table]:
    table = Table("weeks", "Review-date load", ["Week starting", "Reviews due", "Capacity", "Over capacity"])
    table.rows = [[w["week"], w["n"], report["capacity"], w["over"]] for w in report["weeks"]]
    return [table]


def plan_tables(plan: SpreadPlan) -> list[Table]:
    moves = Table("moves", "Proposed moves", ["Article", "Title", "Due now", "Proposed"])
    moves.rows = [[m.slug, m.title, m.from_date, m.to_date] for m in plan.moves]
    weeks = Table("weeks", "Load before and after", ["Week starting", "Before", "After", "Capacity"])
    weeks.rows = [[w, plan.before[w], plan.after.get(w, 0), plan.capacity] for w in plan.before]
    return [moves, weeks]
