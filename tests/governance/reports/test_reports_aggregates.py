"""The reports' aggregate SQL against known data sets: the PostgreSQL percentiles equal the
portable (SQLite) interpolation, the one-pass monthly means equal a GROUP BY on the month (time
zone included), and the old-evidence anti-join keeps the "newest dated reference" semantics."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.db.models import Avg, DateField, DurationField, ExpressionWrapper, F
from django.db.models.functions import TruncMonth
from django.utils import timezone

from articles.models import Article, Citation, Revision
from governance.reports import tables as reports
from governance.workflow import services
from reviewers.models import ReviewAssignment
from tests import factories
from tests.governance.reports.test_reports import NOW, TODAY, _reviewed, editorial_policy, live_article

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)


def test_it_computes_median_and_p90_as_linear_interpolation_between_ranks(make_article, chief, board,
                                                                         django_assert_max_num_queries):
    # Five reviews each for two members, not in turnaround order.
    first = [4, 1, 10, 3, 2]           # sorted 1 2 3 4 10: median 3, p90 = 4 + 0.6 * 6 = 7.6
    second = [6, 0.5, 8, 2.5, 1.5]     # sorted 0.5 1.5 2.5 6 8: median 2.5, p90 = 6 + 0.6 * 2 = 7.2
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        _reviewed(make_article(title=f"Article {i}"), chief=chief, reviewers=[board[0], board[1]],
                  assigned_at=START + dt.timedelta(days=i), days=[a, b])
    cancelled = services.article_submit(article=make_article(title="Cancelled"), actor=chief)
    with time_machine.travel(START, tick=False):
        services.assignment_create(article=cancelled, actor=chief, reviewer=board[0])
    ReviewAssignment.objects.filter(article=cancelled).update(status=ReviewAssignment.Status.CANCELLED)

    with django_assert_max_num_queries(4):
        report = reports.board_activity(now=NOW)

    by_pk = {m["pk"]: m for m in report["members"]}
    assert (by_pk[board[0].pk]["median_days"], by_pk[board[0].pk]["p90_days"]) == (3.0, 7.6)
    assert (by_pk[board[1].pk]["median_days"], by_pk[board[1].pk]["p90_days"]) == (2.5, 7.2)
    assert [by_pk[board[0].pk][k] for k in ("received", "completed", "open", "overdue_now", "cancelled")] == [6, 5, 0, 0, 1]
    assert (by_pk[board[2].pk]["received"], by_pk[board[2].pk]["median_days"]) == (0, None)
    # The same figures as the portable fallback computes from the raw samples.
    assert reports._quantile([float(d) for d in first], 0.9) == pytest.approx(7.6)
    assert reports._quantile([float(d) for d in second], 0.5) == pytest.approx(2.5)


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
        _reviewed(make_article(title=f"Article {i}"), chief=chief, reviewers=[board[0], board[1]],
                  assigned_at=assigned_at, days=days)

    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        report = reports.board_activity(now=NOW)
        expected = _months_by_group_by(NOW)

    monthly = {r["month"]: r["mean_days"] for r in report["monthly"]}
    assert monthly == expected
    assert monthly == {dt.date(2026, 4, 1): 1.5, dt.date(2026, 5, 1): 4.0, dt.date(2026, 7, 1): 1.0}
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        in_utc = {r["month"]: r["mean_days"] for r in reports.board_activity(now=NOW)["monthly"]}
    assert in_utc == {dt.date(2026, 4, 1): 2.0, dt.date(2026, 5, 1): 2.5, dt.date(2026, 7, 1): 1.0}


def test_it_lists_live_text_whose_newest_dated_reference_is_older_than_the_cutoff(writer, topic,
                                                                                  django_assert_max_num_queries):
    editorial_policy(evidence_max_age_years=5)  # TODAY is in 2026: the cutoff year is 2021
    ref = factories.ReferenceFactory
    y2010, y2012, y2020, y2021, undated = ref(year=2010), ref(year=2012), ref(year=2020), ref(year=2021), ref(year=None)
    live_article("old-and-undated", topic=topic, writer=writer, due=TODAY, references=[y2012, undated])
    live_article("only-undated", topic=topic, writer=writer, due=TODAY, references=[undated])
    live_article("no-references", topic=topic, writer=writer, due=TODAY)
    live_article("one-year-before", topic=topic, writer=writer, due=TODAY, references=[y2020])
    live_article("cutoff-year-is-recent", topic=topic, writer=writer, due=TODAY, references=[y2020, y2021])
    # Live text is old; the working revision cites a recent study but is not published yet.
    redrafted = live_article("old-live-text", topic=topic, writer=writer, due=TODAY, references=[y2010])
    draft = Revision.objects.create(article=redrafted, number=2, title="Redraft", body_markdown="x", body_html="x",
                                    origin="human", content_hash="redraft", created_by=writer)
    Citation.objects.create(revision=draft, reference=y2021, key="new", number=1)
    Article.objects.filter(pk=redrafted.pk).update(current_revision=draft)
    # The reverse: recent live text, an old unpublished draft; and a draft article citing old work.
    renewed = live_article("recent-live-text", topic=topic, writer=writer, due=TODAY, references=[y2021])
    old_draft = Revision.objects.create(article=renewed, number=2, title="Old", body_markdown="x", body_html="x",
                                        origin="human", content_hash="old-draft", created_by=writer)
    Citation.objects.create(revision=old_draft, reference=y2010, key="old", number=1)
    never_live = Article.objects.create(slug="never-live", title="Draft", topic=topic, created_by=writer)
    unpublished = Revision.objects.create(article=never_live, number=1, title="Draft", body_markdown="x",
                                          body_html="x", origin="human", content_hash="never", created_by=writer)
    Citation.objects.create(revision=unpublished, reference=y2010, key="old", number=1)

    limits = reports.report_limits()  # one query, the view's first
    with django_assert_max_num_queries(2):  # no flagged reference: the flagged queries are skipped
        report = reports.evidence(today=TODAY, limits=limits)

    assert [(a["slug"], a["newest_year"], a["references"]) for a in report["old"]] == [
        ("old-live-text", 2010, 1), ("old-and-undated", 2012, 2), ("one-year-before", 2020, 1)]
    assert report["cutoff_year"] == 2021


def test_it_counts_overlapping_assignments_per_declaration_in_one_pass(make_article, chief, board, topic,
                                                                       django_assert_max_num_queries):
    # Completed: assigned 1 March, done 5 March. Open: assigned 10 May. Both on the declared topic.
    _reviewed(make_article(title="Done"), chief=chief, reviewers=[board[0], board[2]],
              assigned_at=dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), days=[4, 4])
    still_open = services.article_submit(article=make_article(title="Open"), actor=chief)
    with time_machine.travel(dt.datetime(2026, 5, 10, 9, 0, tzinfo=dt.UTC), tick=False):
        services.assignment_create(article=still_open, actor=chief, reviewer=board[0])
    other_topic = factories.TopicFactory(slug="diabetes", name="Diabetes")
    conflict = factories.ConflictFactory
    both = conflict(member=board[0], topic=topic, starts_on=dt.date(2026, 3, 4))           # done after start; open
    neither = conflict(member=board[0], topic=topic, starts_on=dt.date(2026, 3, 10),       # done before start,
                       ends_on=dt.date(2026, 4, 30))                                       # open assigned after end
    done_only = conflict(member=board[0], topic=topic, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 3, 1))
    elsewhere = conflict(member=board[0], topic=other_topic, starts_on=dt.date(2026, 1, 1))
    colleague = conflict(member=board[1], topic=topic, starts_on=dt.date(2026, 1, 1))

    with django_assert_max_num_queries(2):
        report = reports.coi_register()

    counts = {d["pk"]: d["overlapping"] for d in report["declarations"]}
    assert counts == {both.pk: 2, neither.pk: 0, done_only.pk: 1, elsewhere.pk: 0, colleague.pk: 0}
    assert [(row["label"], row["total"]) for row in report["chart"]["rows"]] == [("Consulting fees", 5)]
