"""The managing editor's reports: numbers match the data, each renders and exports (CSV, XLSX),
queries stay constant, and only the managing editor sees them."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from articles.models import Article, Citation, PublishedSnapshot, Reference, Revision
from governance.models import EditorialPolicy
from governance.reports import tables as reports
from governance.workflow import services
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 1)  # a Monday
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
REPORT_URLS = ["reports:index", "reports:currency", "reports:board", "reports:evidence", "reports:coi", "reports:load",
               "reports:spread"]


def live_article(slug: str, *, topic, writer, due: dt.date | None, risk_tier: str = "standard",
                 references: list[Reference] = ()) -> Article:
    """A published article written straight to the tables (fast bulk data for the aggregates; the
    workflow itself is tested through the services elsewhere)."""
    article = Article.objects.create(slug=slug, title=slug.replace("-", " ").title(), topic=topic, risk_tier=risk_tier,
                                     created_by=writer, state="published", next_review_due=due,
                                     last_reviewed_at=NOW - dt.timedelta(days=300))
    revision = Revision.objects.create(article=article, number=1, title=article.title, body_markdown="x",
                                       body_html="<p>x</p>", origin="human", content_hash=f"hash-{slug}",
                                       created_by=writer)
    for number, reference in enumerate(references, start=1):
        Citation.objects.create(revision=revision, reference=reference, key=f"k{number}", number=number)
    years = [r.year for r in references if r.year]
    snapshot = PublishedSnapshot.objects.create(article=article, revision=revision, document={}, etag=f"etag-{slug}",
                                                published_at=NOW - dt.timedelta(days=300),
                                                newest_reference_year=max(years, default=None))
    Article.objects.filter(pk=article.pk).update(current_revision=revision, live_snapshot=snapshot)
    return article


def editorial_policy(version: str = "3", **thresholds) -> EditorialPolicy:
    """The current editorial policy, with the report thresholds given (the others: defaults)."""
    policy = EditorialPolicy(version=version, effective_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
                             body_markdown="Policy", body_html="<p>Policy</p>", **thresholds)
    policy.full_clean(exclude=["created_by"])
    policy.save()
    return policy


@pytest.fixture
def catalogue(writer, topic):
    other = factories.TopicFactory(slug="diabetes", name="Diabetes")
    d = dt.timedelta
    rows = [("overdue-a", topic, "standard", TODAY - d(days=5)), ("soon-a", topic, "standard", TODAY + d(days=10)),
            ("mid-a", topic, "high", TODAY + d(days=45)), ("later-a", topic, "high", TODAY + d(days=75)),
            ("far-a", other, "standard", TODAY + d(days=200)), ("overdue-b", other, "standard", TODAY - d(days=1))]
    articles = {slug: live_article(slug, topic=t, writer=writer, due=due, risk_tier=tier) for slug, t, tier, due in rows}
    # Not live: a draft with a review date counts nowhere.
    Article.objects.create(slug="draft-a", title="Draft", topic=topic, created_by=writer, next_review_due=TODAY)
    return articles


# --- content currency --------------------------------------------------------------------------

def test_it_splits_the_live_catalogue_by_review_due_date(catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        report = reports.content_currency(today=TODAY)

    total = report["total"]
    assert (total["live"], total["overdue"], total["within"]) == (6, 2, 4)
    assert (total["due_30_cum"], total["due_60_cum"], total["due_90_cum"]) == (1, 2, 3)
    assert total["overdue_pct"] == 33.3
    groups = {(r["topic__slug"], r["risk_tier"]): r for r in report["rows"][:-1]}
    assert set(groups) == {("heart-health", "standard"), ("heart-health", "high"), ("diabetes", "standard")}
    assert groups[("heart-health", "high")]["due_60"] == 1
    assert groups[("heart-health", "high")]["due_90"] == 1
    assert groups[("diabetes", "standard")]["later"] == 1


def test_it_lists_the_articles_behind_a_number(catalogue):
    overdue = reports.currency_articles(bucket="overdue", today=TODAY)
    heart_overdue = reports.currency_articles(bucket="overdue", today=TODAY, topic="heart-health", tier="standard")

    assert [a["slug"] for a in overdue] == ["overdue-a", "overdue-b"]
    assert [a["slug"] for a in heart_overdue] == ["overdue-a"]


def test_it_keeps_the_currency_query_count_flat_as_the_catalogue_grows(catalogue, writer, topic,
                                                                      django_assert_max_num_queries):
    for i in range(20):
        live_article(f"more-{i}", topic=topic, writer=writer, due=TODAY + dt.timedelta(days=i))
    with django_assert_max_num_queries(1):
        reports.content_currency(today=TODAY)


@time_machine.travel(NOW, tick=False)
def test_it_renders_and_exports_the_currency_report(client, chief, catalogue):
    client.force_login(chief)

    page = client.get(reverse("reports:currency"))
    listing = client.get(reverse("reports:currency"), {"bucket": "overdue"})
    as_csv = client.get(reverse("reports:currency"), {"export": "csv"})
    as_xlsx = client.get(reverse("reports:currency"), {"bucket": "overdue", "export": "xlsx"})

    assert page.status_code == 200
    assert b"<svg" in page.content and b"Heart health" in page.content
    assert b"overdue-a" in listing.content and b"soon-a" not in listing.content
    rows = list(csv.reader(io.StringIO(as_csv.content.decode())))
    assert rows[0][:3] == ["Topic", "Risk tier", "Live"]
    assert rows[-1][:3] == ["All topics", "All tiers", "6"]
    workbook = load_workbook(io.BytesIO(as_xlsx.content))
    assert workbook.sheetnames == ["Currency by topic and tier", "Articles"]
    assert [row[0] for row in workbook["Articles"].iter_rows(min_row=2, values_only=True)] == ["overdue-a", "overdue-b"]


def test_it_refuses_an_unknown_bucket_naming_the_choices(client, chief):
    client.force_login(chief)
    response = client.get(reverse("reports:currency"), {"bucket": "stale"})
    assert response.status_code == 400
    assert b"Unknown bucket 'stale'" in response.content and b"overdue" in response.content


def test_it_shows_a_helpful_empty_state(client, chief, board):
    client.force_login(chief)
    for name in REPORT_URLS:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
    assert b"Nothing is live yet" in client.get(reverse("reports:currency")).content
    assert b"No declaration recorded yet" in client.get(reverse("reports:coi")).content
    assert b"nothing to spread" in client.get(reverse("reports:spread")).content


# --- board activity ----------------------------------------------------------------------------

def _reviewed(article, *, chief, reviewers, assigned_at: dt.datetime, days: list[float]):
    article = services.article_submit(article=article, actor=article.created_by)
    with time_machine.travel(assigned_at, tick=False):
        assignments = [services.assignment_create(article=article, actor=chief, reviewer=m) for m in reviewers]
        services.article_start_review(article=article, actor=chief)
    for assignment, delay in zip(assignments, days, strict=True):
        with time_machine.travel(assigned_at + dt.timedelta(days=delay), tick=False):
            services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                                   password=PASSWORD)
    return assignments


def test_it_measures_board_turnaround_and_overdue_work(make_article, chief, board, django_assert_max_num_queries):
    start = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
    _reviewed(make_article(title="First"), chief=chief, reviewers=[board[0], board[1]], assigned_at=start, days=[2, 5])
    _reviewed(make_article(title="Second"), chief=chief, reviewers=[board[0], board[1]],
              assigned_at=start + dt.timedelta(days=10), days=[4, 5])
    third = services.article_submit(article=make_article(title="Third"), actor=chief)
    with time_machine.travel(start, tick=False):
        services.assignment_create(article=third, actor=chief, reviewer=board[2])

    with django_assert_max_num_queries(4):
        report = reports.board_activity(now=NOW)

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
    assert all(b["width"] <= reports.COLUMN_MAX_WIDTH for b in bars)


def test_it_counts_reminders_and_escalations_sent(make_article, chief, board):
    from governance import models as governance_models

    ReviewReminder = governance_models.ReviewReminder
    article = services.article_submit(article=make_article(), actor=chief)
    assignment = services.assignment_create(article=article, actor=chief, reviewer=board[0])
    ReviewReminder.objects.create(assignment=assignment, kind="before_due", created_at=NOW, sent_at=NOW)
    ReviewReminder.objects.create(assignment=assignment, kind="overdue", repetition=1, created_at=NOW, sent_at=NOW)
    ReviewReminder.objects.create(assignment=assignment, kind="overdue", repetition=2, created_at=NOW)  # not sent
    ReviewReminder.objects.create(assignment=assignment, kind="escalation", created_at=NOW, sent_at=NOW)

    report = reports.board_activity(now=NOW)

    member = next(m for m in report["members"] if m["pk"] == board[0].pk)
    assert report["reminders_tracked"] is True
    assert (member["reminders"], member["escalations"]) == (2, 1)


def test_it_renders_and_exports_board_activity(client, chief, make_article, board):
    _reviewed(make_article(), chief=chief, reviewers=board[:2], assigned_at=timezone.now() - dt.timedelta(days=3),
              days=[1, 2])
    client.force_login(chief)

    page = client.get(reverse("reports:board"))
    as_csv = client.get(reverse("reports:board"), {"export": "csv"})
    as_xlsx = client.get(reverse("reports:board"), {"export": "xlsx"})

    assert page.status_code == 200 and b"<svg" in page.content
    rows = list(csv.reader(io.StringIO(as_csv.content.decode())))
    assert rows[0][0] == "Member" and len(rows) == 1 + len(board)
    assert load_workbook(io.BytesIO(as_xlsx.content)).sheetnames == ["Board activity", "Turnaround by month"]


# --- evidence ----------------------------------------------------------------------------------

def test_it_finds_flagged_and_old_evidence_in_live_text(writer, topic, django_assert_max_num_queries):
    editorial_policy(evidence_max_age_years=5)
    retracted = factories.ReferenceFactory(year=2020, retraction_status="retracted", retraction_notice="Data fabricated")
    concern = factories.ReferenceFactory(year=2024, retraction_status="expression_of_concern")
    old = factories.ReferenceFactory(year=2012)
    older = factories.ReferenceFactory(year=2009)
    fresh = factories.ReferenceFactory(year=2025)
    live_article("cites-retracted", topic=topic, writer=writer, due=TODAY, references=[retracted, fresh])
    live_article("cites-concern", topic=topic, writer=writer, due=TODAY, references=[concern, retracted])
    live_article("cites-old", topic=topic, writer=writer, due=TODAY, references=[old, older])
    draft = Article.objects.create(slug="draft-retracted", title="Draft", topic=topic, created_by=writer)
    revision = Revision.objects.create(article=draft, number=1, title="Draft", body_markdown="x", body_html="x",
                                       origin="human", content_hash="draft", created_by=writer)
    Citation.objects.create(revision=revision, reference=retracted, key="r", number=1)

    limits = reports.report_limits()  # one query, the view's first
    with django_assert_max_num_queries(4):
        report = reports.evidence(today=TODAY, limits=limits)

    assert [(r["reference__retraction_status"], r["revision__article__slug"]) for r in report["flagged"]] == [
        ("expression_of_concern", "cites-concern"), ("retracted", "cites-concern"), ("retracted", "cites-retracted")]
    summary = {s["status"]: (s["references"], s["articles"]) for s in report["summary"]}
    assert summary == {"retracted": (1, 2), "expression_of_concern": (1, 1), "corrected": (0, 0)}
    assert [(a["slug"], a["newest_year"], a["references"]) for a in report["old"]] == [("cites-old", 2012, 2)]
    assert report["cutoff_year"] == 2021


def test_a_published_snapshot_stores_its_newest_reference_year_and_the_report_reads_it(make_article, drive):
    """Through the services: the snapshot written at publication keeps the newest dated reference
    (2021 of 2021 and 2018), which is what the old-evidence list compares with the cutoff."""
    article = drive(make_article(), "published")
    assert article.live_snapshot.newest_reference_year == 2021
    def limits(years):
        return reports.ReportLimits(capacity=10, window_days=28, evidence_max_age_years=years)

    old = reports.evidence(today=TODAY, limits=limits(4))["old"]  # cutoff 2022 in 2026: 2021 is old
    assert [(a["slug"], a["newest_year"], a["references"]) for a in old] == [(article.slug, 2021, 2)]
    assert reports.evidence(today=TODAY, limits=limits(5))["old"] == []  # cutoff 2021: 2021 is not older


def test_the_migration_fills_in_the_year_of_snapshots_stored_before_it(writer, topic):
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("articles.migrations.0006_publishedsnapshot_newest_reference_year")
    live_article("dated", topic=topic, writer=writer, due=TODAY,
                 references=[factories.ReferenceFactory(year=2003), factories.ReferenceFactory(year=2011),
                             factories.ReferenceFactory(year=None)])
    live_article("undated", topic=topic, writer=writer, due=TODAY, references=[factories.ReferenceFactory(year=None)])
    PublishedSnapshot.objects.update(newest_reference_year=None)  # as stored before the column

    migration.backfill(apps, type("SchemaEditor", (), {"connection": connection})())

    years = dict(PublishedSnapshot.objects.values_list("article__slug", "newest_reference_year"))
    assert years == {"dated": 2011, "undated": None}


def test_it_renders_and_exports_the_evidence_report(client, chief, writer, topic):
    live_article("cites-retracted", topic=topic, writer=writer, due=TODAY,
                 references=[factories.ReferenceFactory(year=1990, retraction_status="retracted")])
    client.force_login(chief)

    page = client.get(reverse("reports:evidence"))
    flagged_csv = client.get(reverse("reports:evidence"), {"export": "csv", "table": "flagged"})
    old_csv = client.get(reverse("reports:evidence"), {"export": "csv", "table": "old"})
    as_xlsx = client.get(reverse("reports:evidence"), {"export": "xlsx"})

    assert page.status_code == 200 and b"<svg" in page.content and b"Retracted" in page.content
    assert list(csv.reader(io.StringIO(flagged_csv.content.decode())))[1][0] == "Retracted"
    assert list(csv.reader(io.StringIO(old_csv.content.decode())))[1][0] == "cites-retracted"
    assert len(load_workbook(io.BytesIO(as_xlsx.content)).sheetnames) == 2


# --- conflict-of-interest register -------------------------------------------------------------

def test_it_registers_declarations_with_overlapping_assignments(make_article, chief, board, topic,
                                                                django_assert_max_num_queries):
    article = services.article_submit(article=make_article(), actor=chief)
    with time_machine.travel(dt.datetime(2026, 5, 10, 9, 0, tzinfo=dt.UTC), tick=False):
        services.assignment_create(article=article, actor=chief, reviewer=board[0])
    diabetes = factories.TopicFactory(slug="diabetes", name="Diabetes")
    overlapping = factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 5, 20))
    ended_before = factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2025, 1, 1),
                                             ends_on=dt.date(2025, 12, 31))
    other_topic = factories.ConflictFactory(member=board[0], topic=diabetes, starts_on=dt.date(2026, 1, 1))
    nothing = factories.ConflictFactory(member=board[1], topic=topic, nature="none", counterparty="")

    with django_assert_max_num_queries(2):
        report = reports.coi_register()

    rows = {d["pk"]: d for d in report["declarations"]}
    assert len(rows) == 4
    assert rows[overlapping.pk]["overlapping"] == 1
    assert rows[ended_before.pk]["overlapping"] == 0
    assert rows[other_topic.pk]["overlapping"] == 0
    assert rows[nothing.pk]["blocks"] is False
    assert rows[overlapping.pk]["blocks"] is True


def test_it_renders_and_exports_the_coi_register(client, chief, board, topic):
    factories.ConflictFactory(member=board[0], topic=topic, counterparty="=HYPERLINK(\"x\")")
    client.force_login(chief)

    page = client.get(reverse("reports:coi"))
    as_csv = client.get(reverse("reports:coi"), {"export": "csv"})
    as_xlsx = client.get(reverse("reports:coi"), {"export": "xlsx"})

    assert page.status_code == 200 and b"<svg" in page.content and b"Consulting fees" in page.content
    rows = list(csv.reader(io.StringIO(as_csv.content.decode())))
    assert rows[1][4] == "'=HYPERLINK(\"x\")"  # a counterparty is never run as a formula
    sheet = load_workbook(io.BytesIO(as_xlsx.content))["COI register"]
    assert sheet.cell(row=2, column=1).value == board[0].printed_name


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_it_never_writes_a_formula_into_an_xlsx_export(client, chief, board, topic, writer, payload):
    factories.ConflictFactory(member=board[0], topic=topic, counterparty=payload)
    live_article("evil", topic=topic, writer=writer, due=TODAY,
                 references=[factories.ReferenceFactory(year=1990, retraction_status="retracted", title=payload)])
    Article.objects.filter(slug="evil").update(title=payload)
    client.force_login(chief)

    coi = load_workbook(io.BytesIO(client.get(reverse("reports:coi"), {"export": "xlsx"}).content))["COI register"]
    flagged = load_workbook(io.BytesIO(client.get(reverse("reports:evidence"), {"export": "xlsx"}).content))[
        "Flagged references"]

    cells = [coi.cell(row=2, column=5), flagged.cell(row=2, column=2), flagged.cell(row=2, column=9)]
    assert [(c.value, c.data_type) for c in cells] == [(payload, "s")] * 3  # text, exactly as entered
    assert all(c.quotePrefix for c in cells)
    for sheet in (coi, flagged):
        assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    as_csv = list(csv.reader(io.StringIO(client.get(reverse("reports:coi"), {"export": "csv"}).content.decode())))
    assert as_csv[1][4] == "'" + payload


# --- permissions -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", REPORT_URLS)
def test_it_refuses_reports_to_a_writer(client, writer, name):
    client.force_login(writer)
    assert client.get(reverse(name)).status_code == 403


def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("reports:currency"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_it_refuses_to_apply_a_spread_for_a_writer(client, writer):
    client.force_login(writer)
    assert client.post(reverse("reports:spread"), {"digest": "x"}).status_code == 403


@time_machine.travel(NOW, tick=False)
def test_it_caps_the_list_on_the_page_but_exports_it_all(client, chief, catalogue, monkeypatch):
    from governance.reports import views

    monkeypatch.setattr(views, "LIST_LIMIT", 1)
    client.force_login(chief)

    page = client.get(reverse("reports:currency"), {"bucket": "overdue"})
    exported = client.get(reverse("reports:currency"), {"bucket": "overdue", "export": "csv", "table": "articles"})

    assert b"Showing the first 1" in page.content
    assert b"overdue-a" in page.content and b"overdue-b" not in page.content
    assert [row[0] for row in csv.reader(io.StringIO(exported.content.decode()))][1:] == ["overdue-a", "overdue-b"]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("zone", "shown"), [("UTC", "2026-06-01 09:00 UTC"), ("Europe/Berlin", "2026-06-01 11:00 CEST")])
def test_it_labels_the_computed_time_with_the_zone_it_is_shown_in(client, chief, settings, zone, shown):
    settings.TIME_ZONE = zone
    client.force_login(chief)
    assert f"Computed {shown} from the live database." in client.get(reverse("reports:index")).content.decode()
