"""The review-date load (reviews of live articles falling due per week over the next 26 weeks) and
the proposal to spread it under the board's weekly capacity (applied by
`governance.workflow.services_reports.review_dates_spread`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, DateField, Min, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from articles.models import LIVE, Article
from governance.reports.charts import column_chart
from governance.reports.exports import Table
from governance.reports.limits import ReportLimits, report_limits

HORIZON_WEEKS = 26


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
