"""Content currency: the share of the live catalogue within its review interval, overdue, and due
in 30/60/90 days, by topic and risk tier."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from articles.models import LIVE, Article, RiskTier
from governance.reports.charts import stacked_bar_chart
from governance.reports.exports import Table

TIER_LABELS = dict(RiskTier.choices)


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


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
