"""Board activity (governance.reports.board_activity): turnaround, overdue work, reminders; the
PostgreSQL percentiles equal the portable (SQLite) interpolation, and the one-pass monthly means
equal a GROUP BY on the month (time zone included)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.db.models import Avg, DateField, DurationField, ExpressionWrapper, F
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from governance.reports import board_activity, charts
from governance.workflow import services
from reviewers.models import ReviewAssignment
from tests.governance.reports.data import NOW, reviewed

pytestmark = pytest.mark.django_db


def test_it_measures_board_turnaround_and_overdue_work(make_article, chief, board, django_assert_max_num_queries):
    start = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
    reviewed(make_article(title="First"), chief=chief, reviewers=[board[0], board[1]], assigned_at=start, days=[2, 5])
    reviewed(make_article(title="Second"), chief=chief, reviewers=[board[0], board[1]],
              assigned_at=start + dt.timedelta(days=10), days=[4, 5])
    third = services.article_submit(article=make_article(title="Third"), actor=chief)
    with time_machine.travel(start, tick=False):
        services.assignment_create(article=third, actor=chief, reviewer=board[2])

    with django_assert_max_num_queries(4):
        report = board_activity.board_activity(now=NOW)

    by_user = {m["printed_name"]: m for m in report["members"]}
    first = by_user[board[0].printed_name]
    assert (first["received"], first["completed"], first["open"], first["overdue_now"]) == (2, 2, 0, 0)
    assert first["median_days"] == 3.0
    assert first["p90_days"] == 3.8
    third_member = by_user[board[2].printed_name]
    assert (third_member["received"], third_member["overdue_now"], third_member["median_days"]) == (1, 1, None)
    assert report["monthly"] == [{"month": dt.date(2026, 4, 1), "mean_days": 4.0}]
    # The chart spans the twelve months to NOW's (June 2026): months with no completion are gaps.
    bars = report["chart"]["bars"]
    assert [b["label"] for b in bars][:2] == ["Jul 2025", "Aug 2025"] and bars[-1]["label"] == "Jun 2026"
    assert len(bars) == 12
    assert [(b["label"], b["value"]) for b in bars if b["height"] is not None] == [("Apr 2026", "4")]
    assert next(b for b in bars if b["label"] == "May 2026")["title"] == "May 2026: no review completed"
    assert all(b["width"] <= charts.COLUMN_MAX_WIDTH for b in bars)


def test_it_counts_reminders_and_escalations_sent(make_article, chief, board):
    from governance import models as governance_models

    ReviewReminder = governance_models.ReviewReminder
    article = services.article_submit(article=make_article(), actor=chief)
    assignment = services.assignment_create(article=article, actor=chief, reviewer=board[0])
    ReviewReminder.objects.create(assignment=assignment, kind="before_due", created_at=NOW, sent_at=NOW)
    ReviewReminder.objects.create(assignment=assignment, kind="overdue", repetition=1, created_at=NOW, sent_at=NOW)
    ReviewReminder.objects.create(assignment=assignment, kind="overdue", repetition=2, created_at=NOW)  # not sent
    ReviewReminder.objects.create(assignment=assignment, kind="escalation", created_at=NOW, sent_at=NOW)

    report = board_activity.board_activity(now=NOW)

    member = next(m for m in report["members"] if m["pk"] == board[0].pk)
    assert (member["reminders"], member["escalations"]) == (2, 1)


def test_it_renders_and_exports_board_activity(client, chief, make_article, board):
    reviewed(make_article(), chief=chief, reviewers=board[:2], assigned_at=timezone.now() - dt.timedelta(days=3),
              days=[1, 2])
    client.force_login(chief)

    page = client.get(reverse("reports:board"))
    as_csv = client.get(reverse("reports:board"), {"export": "csv"})
    as_xlsx = client.get(reverse("reports:board"), {"export": "xlsx"})

    assert page.status_code == 200 and b"<svg" in page.content
    rows = list(csv.reader(io.StringIO(as_csv.content.decode())))
    assert rows[0][0] == "Member" and len(rows) == 1 + len(board)
    assert load_workbook(io.BytesIO(as_xlsx.content)).sheetnames == ["Board activity", "Turnaround by month"]


START = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)


def test_it_computes_median_and_p90_as_linear_interpolation_between_ranks(make_article, chief, board,
                                                                         django_assert_max_num_queries):
    # Five reviews each for two members, not in turnaround order.
    first = [4, 1, 10, 3, 2]           # sorted 1 2 3 4 10: median 3, p90 = 4 + 0.6 * 6 = 7.6
    second = [6, 0.5, 8, 2.5, 1.5]     # sorted 0.5 1.5 2.5 6 8: median 2.5, p90 = 6 + 0.6 * 2 = 7.2
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        reviewed(make_article(title=f"Article {i}"), chief=chief, reviewers=[board[0], board[1]],
                  assigned_at=START + dt.timedelta(days=i), days=[a, b])
    cancelled = services.article_submit(article=make_article(title="Cancelled"), actor=chief)
    with time_machine.travel(START, tick=False):
        services.assignment_create(article=cancelled, actor=chief, reviewer=board[0])
    ReviewAssignment.objects.filter(article=cancelled).update(status=ReviewAssignment.Status.CANCELLED)

    with django_assert_max_num_queries(4):
        report = board_activity.board_activity(now=NOW)

    by_pk = {m["pk"]: m for m in report["members"]}
    assert (by_pk[board[0].pk]["median_days"], by_pk[board[0].pk]["p90_days"]) == (3.0, 7.6)
    assert (by_pk[board[1].pk]["median_days"], by_pk[board[1].pk]["p90_days"]) == (2.5, 7.2)
    assert [by_pk[board[0].pk][k] for k in ("received", "completed", "open", "overdue_now", "cancelled")] == [6, 5, 0, 0, 1]
    assert (by_pk[board[2].pk]["received"], by_pk[board[2].pk]["median_days"]) == (0, None)
    # The same figures as the portable fallback computes from the raw samples.
    assert board_activity._quantile([float(d) for d in first], 0.9) == pytest.approx(7.6)
    assert board_activity._quantile([float(d) for d in second], 0.5) == pytest.approx(2.5)


def _months_by_group_by(now: dt.datetime, months: int = 12) -> dict[dt.date, float]:
    """The monthly means as a plain GROUP BY on the truncated month computes them (the oracle)."""
    since = (now - dt.timedelta(days=31 * months)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    turnaround = ExpressionWrapper(F("completed_at") - F("assigned_at"), output_field=DurationField())
    rows = (ReviewAssignment.objects.filter(status="completed", completed_at__isnull=False, completed_at__gte=since)
            .annotate(month=TruncMonth("completed_at", output_field=DateField())).values("month")
            .annotate(mean=Avg(turnaround)).order_by("month"))
    return {(r["month"].date() if isinstance(r["month"], dt.datetime) else r["month"]):
            round(r["mean"].total_seconds() / 86400 if isinstance(r["mean"], dt.timedelta) else r["mean"], 1)
            for r in rows}


def test_it_groups_turnaround_by_local_month_including_completions_after_now(make_article, chief, board):
    # Completed 30 April 23:00 and 1 May 02:00 UTC: both still April in New York (UTC-4).
    # One more in May, one a year ago (before the window), one dated after `now` (a clock ahead).
    cases = [(dt.datetime(2026, 4, 28, 23, 0, tzinfo=dt.UTC), [2, 2]),
             (dt.datetime(2026, 4, 30, 2, 0, tzinfo=dt.UTC), [1, 1]),
             (dt.datetime(2026, 5, 10, 9, 0, tzinfo=dt.UTC), [5, 3]),
             (dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC), [1, 1]),
             (dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC), [0.5, 1.5])]
    for i, (assigned_at, days) in enumerate(cases):
        reviewed(make_article(title=f"Article {i}"), chief=chief, reviewers=[board[0], board[1]],
                  assigned_at=assigned_at, days=days)

    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        report = board_activity.board_activity(now=NOW)
        expected = _months_by_group_by(NOW)

    monthly = {r["month"]: r["mean_days"] for r in report["monthly"]}
    assert monthly == expected
    assert monthly == {dt.date(2026, 4, 1): 1.5, dt.date(2026, 5, 1): 4.0, dt.date(2026, 7, 1): 1.0}
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        in_utc = {r["month"]: r["mean_days"] for r in board_activity.board_activity(now=NOW)["monthly"]}
    assert in_utc == {dt.date(2026, 4, 1): 2.0, dt.date(2026, 5, 1): 2.5, dt.date(2026, 7, 1): 1.0}
