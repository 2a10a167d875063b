"""The conflict-of-interest register: every declaration, with the member's assignments on its topic
that overlap its period."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Count, DateField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from governance.reports.charts import stacked_bar_chart
from governance.reports.exports import Table
from reviewers.models import ConflictOfInterest, ReviewAssignment


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
