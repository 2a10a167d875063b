"""Content currency (governance.reports.currency): the live catalogue split by review date, the
list behind each number, the page and its exports."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from articles.models import Article
from governance.reports import currency
from tests import factories
from tests.governance.reports.data import NOW, REPORT_URLS, TODAY, live_article

pytestmark = pytest.mark.django_db


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


def test_it_splits_the_live_catalogue_by_review_due_date(catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        report = currency.content_currency(today=TODAY)

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
    overdue = currency.currency_articles(bucket="overdue", today=TODAY)
    heart_overdue = currency.currency_articles(bucket="overdue", today=TODAY, topic="heart-health", tier="standard")

    assert [a["slug"] for a in overdue] == ["overdue-a", "overdue-b"]
    assert [a["slug"] for a in heart_overdue] == ["overdue-a"]


def test_it_keeps_the_currency_query_count_flat_as_the_catalogue_grows(catalogue, writer, topic,
                                                                      django_assert_max_num_queries):
    for i in range(20):
        live_article(f"more-{i}", topic=topic, writer=writer, due=TODAY + dt.timedelta(days=i))
    with django_assert_max_num_queries(1):
        currency.content_currency(today=TODAY)


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
