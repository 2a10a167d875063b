"""Evidence (governance.reports.evidence): flagged and old references in live text; the
old-evidence query keeps the "newest dated reference" semantics."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from articles.models import Article, Citation, PublishedSnapshot, Revision
from governance.reports import evidence
from governance.reports.limits import ReportLimits, report_limits
from tests import factories
from tests.governance.reports.data import TODAY, editorial_policy, live_article

pytestmark = pytest.mark.django_db


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

    limits = report_limits()  # one query, the view's first
    with django_assert_max_num_queries(4):
        report = evidence.evidence(today=TODAY, limits=limits)

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
        return ReportLimits(capacity=10, window_days=28, evidence_max_age_years=years)

    old = evidence.evidence(today=TODAY, limits=limits(4))["old"]  # cutoff 2022 in 2026: 2021 is old
    assert [(a["slug"], a["newest_year"], a["references"]) for a in old] == [(article.slug, 2021, 2)]
    assert evidence.evidence(today=TODAY, limits=limits(5))["old"] == []  # cutoff 2021: 2021 is not older


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

    limits = report_limits()  # one query, the view's first
    with django_assert_max_num_queries(2):  # no flagged reference: the flagged queries are skipped
        report = evidence.evidence(today=TODAY, limits=limits)

    assert [(a["slug"], a["newest_year"], a["references"]) for a in report["old"]] == [
        ("old-live-text", 2010, 1), ("old-and-undated", 2012, 2), ("one-year-before", 2020, 1)]
    assert report["cutoff_year"] == 2021
