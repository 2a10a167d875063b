"""Board activity: per member, assignments received and completed, turnaround percentiles, open
and overdue now, reminders and escalations sent; mean turnaround per month.

One exception to "every number from an aggregate query": SQLite has no `percentile_cont`, so there
the turnaround of completed assignments is fetched as (member, seconds) pairs and summarised in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Aggregate, Avg, Count, DateField, DurationField, ExpressionWrapper, F, FloatField, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from governance.models import ReviewReminder
from governance.reports.charts import column_chart
from governance.reports.exports import Table
from reviewers.models import BoardMember, ReviewAssignment


class Percentiles(Aggregate):
    """PostgreSQL's ordered-set aggregate percentile_cont over the seconds of an interval, several
    fractions at once (one sort): returns a list of floats."""

    function = "percentile_cont"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"

    def __init__(self, expression: Any, fractions: list[float], **extra: Any) -> None:
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


def reminder_counts() -> dict[int, tuple[int, int]]:
    """{member id: (reminders, escalations) sent}."""
    escalation = Q(kind=ReviewReminder.Kind.ESCALATION)
    rows = (ReviewReminder.objects.filter(sent_at__isnull=False).values("assignment__reviewer_id")
            .annotate(reminders=Count("pk", filter=~escalation), escalations=Count("pk", filter=escalation)).order_by())
    return {r["assignment__reviewer_id"]: (r["reminders"], r["escalations"]) for r in rows}


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
    reminders = reminder_counts()
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
    return {"members": members, "chart": chart, "now": now,
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
